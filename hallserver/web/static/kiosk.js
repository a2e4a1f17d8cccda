// The touch kiosk of one dispenser: /kiosk/{device}. Talks HTTP to the hall server only.
// Each touch gets an id made here; a retry after a network error sends the same id, so the
// server answers with the same ticket instead of issuing a second one.
"use strict";
const BASE = document.documentElement.dataset.base || "";  // the app's prefix: "" or "/h/{hall}"
const device = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const api = `${BASE}/api/kiosk/${encodeURIComponent(device)}`;
const $ = (id) => document.getElementById(id);
let priority = null;
let busy = false;
let hideTimer = null;

function newId() {  // crypto.randomUUID needs https; getRandomValues works on a plain-http LAN
  const b = crypto.getRandomValues(new Uint8Array(12));
  return "web-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function banner(text) {
  $("banner").hidden = !text;
  $("banner").textContent = text || "";
}

function render(state) {
  $("hall").textContent = state.hall;
  document.title = "Lấy số thứ tự — " + state.hall;
  const paperOut = state.printer.paper === "out";
  banner(paperOut ? "Máy in hết giấy, vui lòng báo cán bộ" : "");
  const nav = $("priority");
  if (!nav.childElementCount && state.priority_categories.length) {
    for (const c of state.priority_categories) {
      const b = document.createElement("button");
      b.textContent = "Ưu tiên: " + c.label;
      b.setAttribute("aria-pressed", "false");
      b.onclick = () => {
        priority = priority === c.key ? null : c.key;
        for (const x of nav.children) x.setAttribute("aria-pressed", String(x === b && priority !== null));
      };
      nav.appendChild(b);
    }
  }
  const main = $("services");
  main.replaceChildren(...state.services.map((s) => {
    const b = document.createElement("button");
    b.dataset.service = s.code;
    b.disabled = !s.open || paperOut || busy;
    b.innerHTML = `<span class="prefix"></span><span class="name"></span>`;
    b.querySelector(".prefix").textContent = s.prefix;
    const name = b.querySelector(".name");
    name.textContent = s.name;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = s.open ? `Đang chờ: ${s.waiting} · khoảng ${s.eta_min} phút` : "Tạm ngừng cấp số";
    name.appendChild(meta);
    b.onclick = () => take(s);
    return b;
  }));
}

async function refresh() {
  try {
    const r = await fetch(api, { cache: "no-store" });
    if (r.ok) render(await r.json());
  } catch (e) {
    banner("MẤT KẾT NỐI — vui lòng chờ trong giây lát");
  }
}

async function post(body) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(api + "/tickets", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
    } catch (e) {  // the request may have reached the server: retry with the same id
      if (attempt >= 4) throw e;
      await new Promise((ok) => setTimeout(ok, 800 * (attempt + 1)));
    }
  }
}

function show(ticket, hint, warn) {
  $("number").textContent = ticket ? ticket.number : "";
  $("service").textContent = ticket ? ticket.service_name : "";
  $("wait").textContent = ticket ? `Trước bạn: ${ticket.ahead} người · Chờ khoảng ${ticket.eta_min} phút` : "";
  $("hint").textContent = hint;
  $("hint").className = warn ? "hint warn" : "hint";
  // the tracking link as a QR code to scan with a phone (the server draws it: no CDN, no script)
  $("qr").hidden = !ticket;
  if (ticket) $("qr").src = `${api}/tickets/${encodeURIComponent(ticket.number)}/qr.svg`;
  else $("qr").removeAttribute("src");
  $("link").textContent = ticket ? ticket.track_url : "";
  $("overlay").hidden = false;
  clearTimeout(hideTimer);
  hideTimer = setTimeout(() => { $("overlay").hidden = true; }, ticket ? 15000 : 8000);
}

async function take(s) {
  if (busy) return;  // one touch, one ticket
  busy = true;
  for (const b of $("services").children) b.disabled = true;
  const body = { id: newId(), service: s.code, priority };
  try {
    const r = await post(body);
    const data = await r.json();
    if (r.ok) {
      show(data.ticket, data.printing ? "Vui lòng nhận phiếu in bên dưới"
        : "Máy in chưa sẵn sàng: vui lòng ghi nhớ số này", !data.printing);
    } else {
      show(null, data.message || "Không lấy được số, vui lòng thử lại", true);
    }
  } catch (e) {
    show(null, "MẤT KẾT NỐI — vui lòng thử lại", true);
  } finally {
    busy = false;
    priority = null;
    for (const x of $("priority").children) x.setAttribute("aria-pressed", "false");
    refresh();
  }
}

$("overlay").onclick = () => { $("overlay").hidden = true; };
refresh();
// Waiting counts follow the hall's event stream: each board snapshot (sent at every ticket and
// call) triggers a refresh of this page's own view, at most one per second. The board does not
// carry the printer's paper state nor opening hours, so a slow poll stays for those.
let pending = null;
function soon() {
  if (pending === null) pending = setTimeout(() => { pending = null; refresh(); }, 1000);
}
if (window.EventSource) {
  const stream = new EventSource(`${BASE}/api/stream`);
  stream.addEventListener("board", soon);
  stream.onerror = () => banner("MẤT KẾT NỐI — vui lòng chờ trong giây lát");  // it reconnects by itself
  stream.onopen = soon;
}
setInterval(refresh, 60000);
