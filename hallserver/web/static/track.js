// Ticket tracking page (QR code on the ticket): live by server-sent events, polling when a proxy or
// an old phone cannot keep a stream open. Shows one ticket and nothing about the person.
"use strict";
const BASE = document.documentElement.dataset.base || "";  // the app's prefix: "" or "/h/{hall}"
const STATUS = { waiting: "Đang chờ · Waiting", called: "Đang được gọi · Called now", held: "Tạm giữ · On hold",
  done: "Đã phục vụ · Served", no_show: "Vắng mặt · Missed", expired: "Hết hạn · Expired",
  voided: "Đã hủy · Voided" };
const token = location.pathname.split("/").pop();
const $ = (id) => document.getElementById(id);
let polling = null;

function row(dl, label, value) {
  const dt = document.createElement("dt"); dt.textContent = label;
  const dd = document.createElement("dd"); dd.textContent = value;
  dl.append(dt, dd);
}

function show(t) {
  $("error").hidden = true;
  $("number").textContent = t.number;
  document.title = `${t.number} — ${STATUS[t.status] || t.status}`;
  const call = $("call");
  call.hidden = t.status !== "called";
  if (t.status === "called") {
    call.textContent = `Mời bạn đến ${t.counter_name || "quầy " + t.counter} · Please go to ${t.counter_name || "counter " + t.counter}`;
    if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  }
  const dl = $("details");
  dl.replaceChildren();
  row(dl, "Dịch vụ · Service", t.service_name);
  row(dl, "Trạng thái · Status", STATUS[t.status] || t.status);
  if (t.status === "waiting") {
    row(dl, "Số người trước bạn · Ahead of you", String(t.ahead));
    row(dl, "Thời gian chờ dự kiến · Estimated wait", `${t.eta_min} phút · min`);
  }
  if (t.counter) row(dl, "Quầy · Counter", t.counter_name || String(t.counter));
  row(dl, "Giờ lấy số · Issued", t.issued_at.slice(11, 16));
}

function gone(err) {
  $("number").textContent = "—";
  $("call").hidden = true;
  $("details").replaceChildren();
  const e = $("error");
  e.textContent = err.detail || err;
  e.dataset.code = err.code || "";
  e.hidden = false;
  setLink(null);
}

function setLink(live) {
  const badge = $("link");
  badge.textContent = live === null ? "" : live ? "cập nhật trực tiếp · live" : "đang kết nối lại… · reconnecting…";
  badge.hidden = live === null;
  badge.classList.toggle("live", !!live);
}

async function poll() {
  try {
    const res = await fetch(`${BASE}/api/track/${encodeURIComponent(token)}`);
    const body = await res.json();
    if (!res.ok) { gone(body); clearInterval(polling); return; }
    show(body);
  } catch (err) {
    setLink(false);
  }
}

function connect() {
  if (!window.EventSource) { poll(); polling = setInterval(poll, 5000); return; }
  const source = new EventSource(`${BASE}/api/track/${encodeURIComponent(token)}/stream`);
  source.addEventListener("open", () => setLink(true));
  source.addEventListener("ticket", (e) => { setLink(true); show(JSON.parse(e.data)); });
  source.addEventListener("gone", (e) => { source.close(); gone(JSON.parse(e.data)); });
  source.addEventListener("error", () => setLink(false));
}

connect();
