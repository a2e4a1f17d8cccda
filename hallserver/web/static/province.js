// Province index: the halls' load, refreshed from /api/halls every few seconds (the first figures
// come with the page). A failed refresh keeps the last figures and marks the badge.
"use strict";
const BASE = document.documentElement.dataset.base || "";  // the app's prefix: "" at the province root
const LANG = document.documentElement.lang === "en" ? "en" : "vi";
const TEXT = { vi: { s: "giây", min: "phút", live: "trực tiếp", lost: "mất kết nối" },
  en: { s: "s", min: "min", live: "live", lost: "reconnecting" } }[LANG];
const REFRESH_MS = 5000;

function number(n) { return n === null || n === undefined ? "—" : n.toLocaleString("vi-VN"); }

function duration(s) {
  if (s === null || s === undefined) return "—";
  if (s < 60) return `${s} ${TEXT.s}`;
  if (s < 3600) return `${Math.floor(s / 60)} ${TEXT.min}`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} ${TEXT.min}`;
}

function setLive(live) {
  const badge = document.getElementById("link");
  badge.className = live ? "badge live" : "badge";
  badge.textContent = live ? TEXT.live : TEXT.lost;
}

async function refresh() {
  try {
    const res = await fetch(BASE + "/api/halls", { cache: "no-store", headers: { "X-Hall-Background": "1" } });  // not activity
    if (!res.ok) throw new Error(res.statusText);
    for (const h of await res.json()) {
      const row = document.querySelector(`#halls tr[data-hall="${CSS.escape(h.id)}"]`);
      if (!row) continue;
      row.classList.toggle("alert", !h.available);
      row.querySelector(".waiting").textContent = number(h.waiting);
      row.querySelector(".longest").textContent = duration(h.longest_wait_s);
      row.querySelector(".open").textContent = `${number(h.counters_open)} / ${number(h.counters)}`;
      row.querySelector(".issued").textContent = number(h.tickets_today);
    }
    setLive(true);
  } catch (err) {
    setLive(false);
  }
}

setInterval(refresh, REFRESH_MS);
