// Ticket tracking page (QR code on the ticket): polls the ticket's public status by its token.
"use strict";
const STATUS = { waiting: "Đang chờ", called: "Đang được gọi", held: "Tạm giữ", done: "Đã phục vụ",
  no_show: "Vắng mặt", expired: "Hết hạn" };
const token = location.pathname.split("/").pop();

function row(dl, label, value) {
  const dt = document.createElement("dt"); dt.textContent = label;
  const dd = document.createElement("dd"); dd.textContent = value;
  dl.append(dt, dd);
}

async function refresh() {
  try {
    const res = await fetch(`/api/track/${encodeURIComponent(token)}`);
    const body = await res.json();
    if (!res.ok) throw new Error(body.detail || res.statusText);
    document.getElementById("error").hidden = true;
    document.getElementById("number").textContent = body.number;
    const dl = document.getElementById("details");
    dl.replaceChildren();
    row(dl, "Dịch vụ", body.service_name);
    row(dl, "Trạng thái", STATUS[body.status] || body.status);
    if (body.status === "waiting") {
      row(dl, "Số người trước bạn", String(body.ahead));
      row(dl, "Thời gian chờ dự kiến", `${body.eta_min} phút`);
    }
    if (body.counter) row(dl, "Mời đến quầy", String(body.counter));
  } catch (err) {
    const e = document.getElementById("error");
    e.textContent = err.message;
    e.hidden = false;
  }
}

refresh();
setInterval(refresh, 5000);
