// Live hall overview: a board snapshot, then server-sent events; on a lost link the last board
// stays on screen marked stale, and EventSource reconnects by itself.
"use strict";
const BASE = document.documentElement.dataset.base || "";  // the app's prefix: "" or "/h/{hall}"
const STATUS = { open: "mở", paused: "tạm nghỉ", closed: "đóng" };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function minutes(s) {
  return s >= 60 ? `${Math.floor(s / 60)} phút` : s > 0 ? `${s} giây` : "—";
}

function render(board) {
  $("hall-name").textContent = board.name;
  document.title = `${board.name} — Tổng quan`;
  $("recent").replaceChildren(...board.recent.map((c) =>
    el("li", { "data-number": c.number }, el("span", { class: "num" }, c.number), " → ", c.counter_name)));
  $("queues").tBodies[0].replaceChildren(...board.waiting.map((w) =>
    el("tr", { class: w.waiting > 0 ? "busy" : "", "data-service": w.service },
      el("td", {}, w.name), el("td", {}, w.prefix), el("td", { class: "num" }, String(w.waiting)),
      el("td", { class: "num" }, minutes(w.longest_wait_s)))));
  $("counters").replaceChildren(...board.counters.map((c) =>
    el("div", { class: `counter ${c.status}`, "data-counter": String(c.number) },
      el("div", { class: "name" }, `${c.name} · ${STATUS[c.status] || c.status}`),
      el("div", { class: "ticket" }, c.ticket || "—"))));
}

function setLive(live) {
  const badge = $("link");
  badge.textContent = live ? "trực tiếp · live" : "mất kết nối · reconnecting";
  badge.classList.toggle("live", live);
  document.body.classList.toggle("stale", !live);
}

function tick() {
  $("clock").textContent = new Date().toLocaleString("vi-VN", { hour12: false });
}

function connect() {
  const source = new EventSource(BASE + "/api/stream");
  source.addEventListener("open", () => setLive(true));
  source.addEventListener("error", () => setLive(false));
  source.addEventListener("board", (e) => { setLive(true); render(JSON.parse(e.data)); });
}

tick();
setInterval(tick, 1000);
connect();
