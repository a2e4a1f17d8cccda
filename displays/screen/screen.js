// Hall screen: renders board snapshots pushed by server-sent events. Each call is also sent on its
// own, at once, while the board may be held back under load: the call is merged into the last
// board and rendered, so it shows (and is announced) without waiting for the next board, which
// then replaces it. On a lost link it keeps the last good board (marked stale), reconnects with
// jittered back-off and resynchronises from the snapshot the server sends first on every
// connection. URL parameters pick a subset for one screen: ?services=tu-phap,giao-thong  ?counters=1-10,12
"use strict";
const BASE = document.documentElement.dataset.base || "";  // the app's prefix: "" or "/h/{hall}"
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const onlyServices = params.get("services") ? new Set(params.get("services").split(",")) : null;
const onlyCounters = params.get("counters") ? parseRanges(params.get("counters")) : null;
const WEEKDAYS = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
const BLINK_MS = 5000;
const RECENT_CALLS = 10;  // the board's `recent`: hallserver/domain/engine.py RECENT_CALLS
let lastSeq = null;  // the newest call shown: only calls after it blink and are announced
let lastBoard = null;  // the board last rendered, a call merged into it or not
let clockOffsetMs = 0;
let tzMinutes = 7 * 60;
let backoffMs = 1000;
let source = null;
let soundOn = false;
const audioQueue = [];
let playing = false;

function parseRanges(text) {
  const set = new Set();
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    for (let n = a; n <= (b || a); n++) set.add(n);
  }
  return set;
}

function el(tag, cls, ...children) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.append(...children);
  return node;
}

function visibleCall(c) {
  return (!onlyServices || onlyServices.has(c.service)) && (!onlyCounters || onlyCounters.has(c.counter));
}

function visibleCounter(c) {
  return (!onlyCounters || onlyCounters.has(c.number)) &&
    (!onlyServices || c.services.some((s) => onlyServices.has(s)));
}

function render(board) {
  lastBoard = board;
  $("hall-name").textContent = board.name;
  if (board.at) {
    clockOffsetMs = Date.parse(board.at) - Date.now();
    const m = /([+-])(\d\d):(\d\d)$/.exec(board.at);
    if (m) tzMinutes = (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  }
  const calls = board.recent.filter(visibleCall);
  const latest = calls[0];
  $("latest-number").textContent = latest ? latest.number : "—";
  $("latest-counter").textContent = latest ? latest.counter_name : "";
  const fresh = latest && lastSeq !== null && latest.seq > lastSeq;
  if (fresh) {
    const box = document.querySelector(".latest");
    box.classList.remove("blink");
    void box.offsetWidth; // restart the animation on a recall of the same number
    box.classList.add("blink");
    setTimeout(() => box.classList.remove("blink"), BLINK_MS);
    for (const c of calls.filter((c) => c.seq > lastSeq).reverse()) announce(c);
  }
  if (latest) lastSeq = Math.max(lastSeq ?? 0, latest.seq);
  else if (lastSeq === null) lastSeq = 0;
  $("recent").replaceChildren(...calls.slice(1, 11).map((c) =>
    el("li", null, el("span", "num", c.number), el("span", null, c.counter_name))));
  $("counters").replaceChildren(...board.counters.filter((c) => c.status !== "closed" && visibleCounter(c)).map((c) => {
    const tile = el("div", `tile ${c.status}` + (fresh && latest.counter === c.number ? " fresh" : ""),
      el("div", "name", c.name),
      el("div", "ticket", c.status === "paused" ? "Tạm nghỉ" : (c.ticket || "—")));
    tile.dataset.counter = c.number;
    return tile;
  }));
  $("services").replaceChildren(...board.waiting.filter((w) => !onlyServices || onlyServices.has(w.service)).map((w) => {
    const row = el("div", "service" + (w.waiting ? "" : " idle"),
      el("span", "prefix", w.prefix), el("span", "name", w.name),
      el("span", "waiting", `${w.waiting} chờ`),
      el("span", "eta", w.waiting ? `~${w.eta_min} phút` : ""));
    row.dataset.service = w.service;
    return row;
  }));
  if (board.notice !== undefined) $("notice").textContent = board.notice;
}

// The last board with this call in it: the newest of `recent` (ordered by seq, newest first) and the
// number on its counter's tile; no `at`, so the clock keeps the offset of the last real board. Null
// when there is nothing to change: no board yet (the stream sends one first), or the call is there.
function withCall(board, call) {
  if (!board || board.recent.some((c) => c.seq === call.seq)) return null;
  const recent = [...board.recent, call].sort((a, b) => b.seq - a.seq).slice(0, RECENT_CALLS);
  const newer = board.recent.some((c) => c.counter === call.counter && c.seq > call.seq);
  const counters = newer ? board.counters : board.counters.map((c) =>
    c.number === call.counter ? { ...c, status: "open", ticket: call.number } : c);
  return { ...board, at: null, recent, counters };
}

function tick() {
  const now = new Date(Date.now() + clockOffsetMs + tzMinutes * 60000);
  const pad = (n) => String(n).padStart(2, "0");
  $("clock").textContent = `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  $("date").textContent = `${WEEKDAYS[now.getUTCDay()]}, ${pad(now.getUTCDate())}/${pad(now.getUTCMonth() + 1)}/${now.getUTCFullYear()}`;
}

function setLive(live) {
  document.body.classList.toggle("stale", !live);
  $("link").hidden = live;
}

function connect() {
  source = new EventSource(BASE + "/api/stream");
  source.addEventListener("board", (e) => {
    backoffMs = 1000;
    setLive(true);
    render(JSON.parse(e.data));
  });
  source.addEventListener("call", (e) => {
    const board = withCall(lastBoard, JSON.parse(e.data));
    if (board) render(board);
  });
  source.addEventListener("error", () => {
    // keep the last board; reconnect ourselves with back-off instead of EventSource's fixed retry
    setLive(false);
    source.close();
    const delay = backoffMs * (0.75 + Math.random() * 0.5);
    backoffMs = Math.min(backoffMs * 2, 30000);
    setTimeout(connect, delay);
  });
}

// ---- sound: browsers play audio only after one click on the page (kiosks do it once at start)
function announce(call) {
  if (!soundOn) return;
  audioQueue.push(`${BASE}/api/voice/call.wav?number=${encodeURIComponent(call.number)}&counter=${call.counter}`);
  playNext();
}

function playNext() {
  if (playing || !audioQueue.length) return;
  playing = true;
  const audio = new Audio(audioQueue.shift());
  const done = () => { playing = false; playNext(); };
  audio.addEventListener("ended", done);
  audio.addEventListener("error", done);
  audio.play().catch(done);
}

$("sound").addEventListener("click", () => {
  soundOn = true;
  $("sound").hidden = true;
});

tick();
setInterval(tick, 1000);
connect();
