// Manager dashboard: a snapshot, then server-sent events (`dashboard` on each change, `call` on each
// call); counters' clocks tick in the browser between snapshots. Staffing changes go to
// /api/manage/... with the session's CSRF token; the next snapshot shows their effect.
"use strict";
const BASE = document.documentElement.dataset.base || "";  // the app's prefix: "" or "/h/{hall}"
const LANG = document.documentElement.lang === "en" ? "en" : "vi";
const TEXT = {
  vi: { open: "mở", paused: "tạm nghỉ", closed: "đóng", live: "trực tiếp", lost: "mất kết nối", none: "Không có cảnh báo",
    idle: "rảnh", serving: "đang phục vụ", served: "đã phục vụ", edit: "Điều chỉnh", min: "phút", s: "giây",
    offline: "Mất kết nối", never: "Chưa từng kết nối", paper: "Giấy in", paperOut: "hết giấy", paperLow: "sắp hết",
    allOnline: "Mọi thiết bị đã kết nối đều trực tuyến", saved: "Đã lưu. Có hiệu lực từ lượt gọi tiếp theo.",
    noChange: "Không có gì thay đổi.", counter: "Quầy", status: "Trạng thái", officer: "Cán bộ", nobody: "chưa có cán bộ",
    up: "Lên", down: "Xuống", remove: "Bỏ", closedByManager: "đóng bởi quản lý", heldN: "giữ", target: "mục tiêu ≤",
    movingTo: "xong số này sẽ chuyển sang quầy" },
  en: { open: "open", paused: "paused", closed: "closed", live: "live", lost: "reconnecting", none: "No alerts",
    idle: "idle", serving: "serving", served: "served", edit: "Adjust", min: "min", s: "s",
    offline: "Offline", never: "Never connected", paper: "Paper", paperOut: "out", paperLow: "low",
    allOnline: "Every device seen is online", saved: "Saved. Effective from the next call.",
    noChange: "Nothing changed.", counter: "Counter", status: "Status", officer: "Officer", nobody: "no officer",
    up: "Up", down: "Down", remove: "Remove", closedByManager: "closed by a manager", heldN: "held", target: "target ≤",
    movingTo: "after this ticket, moves to counter" },
}[LANG];
const $ = (id) => document.getElementById(id);
const app = $("app");
const CAN_STAFF = app.dataset.canStaff === "1";
const CAN_AUDIT = app.dataset.canAudit === "1";
const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
let board = null;
let receivedAt = 0;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function duration(s) {
  if (s === null || s === undefined) return "—";
  if (s < 60) return `${s} ${TEXT.s}`;
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} ${TEXT.min}` : `${m} ${TEXT.min}`;
}

function pct(x) { return x === null || x === undefined ? "—" : `${(x * 100).toFixed(0)} %`; }
function elapsed() { return Math.floor((Date.now() - receivedAt) / 1000); }
function label(s) { return LANG === "en" && s.name_en ? s.name_en : s.name; }

function renderServices(d) {
  $("services").tBodies[0].replaceChildren(...d.services.filter((s) => s.issued || s.waiting || s.counters_open)
    .map((s) => el("tr", { "data-service": s.service, class: s.over_target ? "alert" : (s.waiting ? "busy" : "") },
      el("td", {}, `${s.prefix} · ${label(s)}`,
        el("small", { class: "target muted" }, ` · ${TEXT.target} ${s.target_min} ${TEXT.min}`)),
      el("td", { class: "int waiting" }, String(s.waiting)),
      el("td", { class: "num" }, duration(s.longest_wait_s)),
      el("td", { class: "num" }, s.waiting ? `${s.eta_min} ${TEXT.min}` : "—"),
      el("td", { class: "int" }, String(s.issued)),
      el("td", { class: "int" }, String(s.served)),
      el("td", { class: "pct" }, pct(s.within_target)),
      el("td", { class: "int" }, String(s.counters_open)))));
}

function counterCard(c) {
  const prefixes = c.services.map((code) => (board.all_services.find((s) => s.code === code) || { prefix: code }).prefix);
  const card = el("div", { class: `ctr ${c.status}`, "data-counter": String(c.number) },
    el("div", { class: "ctr-head" }, el("b", {}, c.name), el("span", { class: `st ${c.status}` },
      TEXT[c.status] + (c.closed && c.status !== "closed" ? ` (${TEXT.closedByManager})` : ""))),
    el("div", { class: "officer" }, c.officer ? c.officer.name : TEXT.nobody),
    c.moving_to ? el("div", { class: "moving" }, `${TEXT.movingTo} ${c.moving_to}`) : null,
    el("div", { class: "ticket" }, c.ticket || "—"),
    el("div", { class: "since", "data-base": c.ticket ? c.ticket_s : (c.idle_s ?? ""), "data-kind": c.ticket ? "serving" : "idle" },
      c.ticket ? `${TEXT.serving} ${duration(c.ticket_s)}` : (c.idle_s !== null ? `${TEXT.idle} ${duration(c.idle_s)}` : "")),
    el("div", { class: "meta" }, `${TEXT.served}: `, el("span", { class: "served" }, String(c.served)),
      c.held.length ? ` · ${TEXT.heldN}: ${c.held.join(", ")}` : ""),
    el("div", { class: "svcs" }, prefixes.join(" ")));
  if (CAN_STAFF) {
    const btn = el("button", { type: "button", class: "edit", "data-counter": String(c.number) }, TEXT.edit);
    btn.addEventListener("click", () => openEditor(c.number));
    card.append(btn);
  }
  return card;
}

function renderDevices(d) {
  const dev = d.devices;
  $("k-devices").textContent = `${dev.online}/${dev.total}`;
  const parts = [];
  if (dev.offline.length) parts.push(el("p", { class: "warn" }, `${TEXT.offline}: ${dev.offline.join(", ")}`));
  if (dev.paper.length) parts.push(el("p", { class: "warn" }, `${TEXT.paper}: ` +
    dev.paper.map((p) => `${p.device} (${p.paper === "out" ? TEXT.paperOut : TEXT.paperLow})`).join(", ")));
  if (!dev.offline.length && !dev.paper.length) parts.push(el("p", { class: "ok" }, TEXT.allOnline));
  if (dev.never.length) parts.push(el("p", { class: "muted" }, `${TEXT.never}: ${dev.never.length}`));
  $("devices").replaceChildren(...parts);
}

function render(d) {
  board = d;
  receivedAt = Date.now();
  $("k-waiting").textContent = d.totals.waiting;
  $("k-issued").textContent = d.totals.issued;
  $("k-served").textContent = d.totals.served;
  $("k-open").textContent = d.totals.open;
  $("alerts").replaceChildren(...(d.alerts.length ? d.alerts.map((a) =>
    el("li", { class: `alert-${a.level}`, "data-kind": a.kind }, LANG === "en" ? a.en : a.vi)) :
    [el("li", { class: "muted" }, TEXT.none)]));
  renderServices(d);
  $("counters").replaceChildren(...d.counters.map(counterCard));
  renderDevices(d);
  if (editing !== null) fillEditorState();
}

function tickClocks() {
  $("clock").textContent = new Date().toLocaleTimeString(LANG === "en" ? "en-GB" : "vi-VN", { hour12: false });
  if (!board) return;
  for (const node of document.querySelectorAll(".since[data-base]")) {
    if (node.dataset.base === "") continue;
    const s = Number(node.dataset.base) + elapsed();
    node.textContent = `${node.dataset.kind === "serving" ? TEXT.serving : TEXT.idle} ${duration(s)}`;
  }
}

function setLive(live) {
  $("link").textContent = live ? TEXT.live : TEXT.lost;
  $("link").classList.toggle("live", live);
  document.body.classList.toggle("stale", !live);
}

function connect() {
  const source = new EventSource(BASE + "/api/dashboard/stream");
  source.addEventListener("open", () => setLive(true));
  source.addEventListener("error", () => setLive(false));
  source.addEventListener("dashboard", (e) => { setLive(true); render(JSON.parse(e.data)); });
  source.addEventListener("call", () => { if (CAN_AUDIT) loadAudit(); });
  // the session ended (idle, or signed out elsewhere): reloading shows the sign-in page
  source.addEventListener("signed_out", () => { source.close(); window.location.reload(); });
}

// ------------------------------------------------------------------ staffing editor
let editing = null;
let draft = [];

async function post(url, body) {
  const res = await fetch(BASE + url, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body || {}) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.detail || res.statusText);
  return data;
}

function fillEditorState() {
  const c = board.counters.find((x) => x.number === editing);
  if (!c) return;
  $("editor-state").textContent = `${TEXT.status}: ${TEXT[c.status]}${c.closed ? ` (${TEXT.closedByManager})` : ""} · ` +
    `${TEXT.officer}: ${c.officer ? c.officer.name : TEXT.nobody}`;
}

function drawDraft() {
  const names = Object.fromEntries(board.all_services.map((s) => [s.code, `${s.prefix} · ${s.name}`]));
  $("editor-services").replaceChildren(...draft.map((code, i) => el("li", { "data-service": code }, names[code] || code, " ",
    button(TEXT.up, () => { if (i > 0) { [draft[i - 1], draft[i]] = [draft[i], draft[i - 1]]; drawDraft(); } }),
    button(TEXT.down, () => { if (i < draft.length - 1) { [draft[i + 1], draft[i]] = [draft[i], draft[i + 1]]; drawDraft(); } }),
    button(TEXT.remove, () => { draft.splice(i, 1); drawDraft(); }))));
  $("editor-add").replaceChildren(...board.all_services.filter((s) => !draft.includes(s.code))
    .map((s) => el("option", { value: s.code }, `${s.prefix} · ${s.name}`)));
}

function button(text, onClick) {
  const b = el("button", { type: "button", class: "small" }, text);
  b.addEventListener("click", onClick);
  return b;
}

function openEditor(number) {
  editing = number;
  const c = board.counters.find((x) => x.number === number);
  draft = [...c.services];
  $("editor-title").textContent = c.name;
  $("editor-msg").textContent = "";
  fillEditorState();
  drawDraft();
  $("editor-officer").replaceChildren(...board.officers.map((o) => el("option", { value: o.id },
    `${o.name}${o.counter ? ` (${TEXT.counter} ${o.counter})` : ""}`)));
  $("editor").showModal();
}

async function act(fn) {
  try {
    const r = await fn();
    $("editor-msg").textContent = r.changed ? TEXT.saved : TEXT.noChange;
    $("editor-msg").className = "msg ok";
    if (CAN_AUDIT) loadAudit();
  } catch (err) {
    $("editor-msg").textContent = err.message;
    $("editor-msg").className = "msg error";
  }
}

if (CAN_STAFF) {
  $("editor-add-btn").addEventListener("click", () => { const v = $("editor-add").value; if (v) { draft.push(v); drawDraft(); } });
  $("editor-save").addEventListener("click", () => act(() => post(`/api/manage/counters/${editing}/services`, { services: draft })));
  $("editor-open").addEventListener("click", () => act(() => post(`/api/manage/counters/${editing}/open`)));
  $("editor-close").addEventListener("click", () => act(() => post(`/api/manage/counters/${editing}/close`)));
  $("editor-move").addEventListener("click", () => act(() =>
    post(`/api/manage/officers/${encodeURIComponent($("editor-officer").value)}/move`, { counter: editing })));
  $("editor").addEventListener("close", () => { editing = null; });
}

// ------------------------------------------------------------------ audit and staffing advice
async function loadAudit() {
  const res = await fetch(BASE + "/api/audit?limit=8", { headers: { "X-Hall-Background": "1" } });  // not activity
  if (!res.ok) return;
  const rows = await res.json();
  $("audit").tBodies[0].replaceChildren(...rows.map((r) => el("tr", {},
    el("td", {}, r.at.slice(11, 19)), el("td", {}, r.actor), el("td", {}, r.action), el("td", {}, r.target),
    el("td", { class: "json" }, r.before), el("td", { class: "json" }, r.after))));
}

function adviceNode(value) {
  if (Array.isArray(value) && value.length && typeof value[0] === "object") {
    const keys = Object.keys(value[0]);
    return el("table", { class: "data" }, el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", {}, k)))),
      el("tbody", {}, ...value.map((row) => el("tr", {}, ...keys.map((k) => el("td", {}, fmt(row[k])))))));
  }
  if (value && typeof value === "object") {
    return el("dl", { class: "advice" }, ...Object.entries(value).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, adviceNode(v))]));
  }
  return document.createTextNode(fmt(value));
}

function fmt(v) { return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v); }

async function loadAdvice() {
  const url = app.dataset.staffingUrl;
  if (!url) return;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(res.statusText);
    $("advice").replaceChildren(adviceNode(await res.json()));
    $("advice").classList.remove("muted");
  } catch (err) {
    $("advice").textContent = String(err.message || err);
  }
}

tickClocks();
setInterval(tickClocks, 1000);
connect();
if (CAN_AUDIT) loadAudit();
if (app.dataset.staffingUrl) { loadAdvice(); setInterval(loadAdvice, 60000); }

// ------------------------------------------------------------------ notice and policy (managers)
for (const [form, url, field] of [["notice-form", "/api/manage/notice", "notice-text"],
  ["policy-form", "/api/manage/policy", "policy"]]) {
  const node = $(form);
  if (!node) continue;
  node.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = field === "policy" ? "policy" : "notice";
    $("hall-msg").textContent = "…";
    try {
      await post(url, { [key]: $(field).value });
      $("hall-msg").textContent = "✓";
      if (CAN_AUDIT) loadAudit();
    } catch (err) {
      $("hall-msg").textContent = err.message;
    }
  });
}
