"""The counter terminal's core: keys in, `up` messages out, the screen redrawn from the retained
state. Hardware is injected (a key source calls `press`, a `TextDisplay` shows), so the real agent,
the tests and the simulators run this same class.

Rules it keeps (issue 3): one key press = at most one message, with a fresh id (retries of that
message keep it); while a reply is pending no other server key is sent; with the broker or the
server gone, server keys are refused on the screen, never queued.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

from firmware.charlcd import TextDisplay
from firmware.counter_terminal.menu import Action, Menu
from firmware.counter_terminal.screen import SHORT, compose
from firmware.pilink import DeviceLink, LinkDown, Refusal

log = logging.getLogger(__name__)
TICK_S = 0.25


def success_text(action: Action, reply: dict) -> str:
    ticket = (reply.get("ticket") or {}).get("number", "")
    if reply.get("no_show"):
        return f"VẮNG MẶT: {ticket}"
    return {
        "officer.login": "XIN CHÀO " + (reply.get("officer") or {}).get("name", ""),
        "call.next": f"MỜI SỐ {ticket}",
        "call.recall": f"GỌI LẠI {ticket}",
        "serve.done": "ĐÃ XONG",
        "call.no_show": "ĐÃ GHI VẮNG MẶT",
        "serve.hold": "ĐÃ GIỮ SỐ",
        "serve.transfer": "ĐÃ CHUYỂN",
        "counter.pause": "ĐÃ TẠM NGHỈ",
        "counter.resume": "ĐÃ TIẾP TỤC",
        "officer.logout": "ĐÃ ĐĂNG XUẤT",
    }.get(action.t, "OK")


class CounterTerminal:
    def __init__(self, link: DeviceLink, display: TextDisplay, hall: dict | None = None,
                 officer_format: str = "o{:02d}", request_timeout: float = 8.0, retry_s: float = 2.0,
                 message_s: float = 4.0, clock: Callable[[], float] = time.monotonic,
                 on_result: Callable[[Action, dict | None, str | None], None] | None = None):
        self.link, self.display, self.hall = link, display, hall or {}
        self.officer_format = officer_format
        self.request_timeout, self.retry_s, self.message_s = request_timeout, retry_s, message_s
        self.clock = clock
        self.on_result = on_result  # (action, reply or None, error code or None), after each request
        self.menu = Menu(self.officer_id, self.services)
        self.pending: Action | None = None
        self.message: str | None = None
        self._message_until = 0.0
        self.sent = 0
        self.ignored_pending = 0  # presses dropped because a reply was pending
        self.refused_offline = 0  # server keys refused because the link was down
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # ------------------------------------------------------------ configuration lookups
    def officer_id(self, digits: str) -> str:
        """An officer number typed on the keypad -> the hall's officer id: an exact id, else the one
        officer whose id's digits are that number (o05 <- 5), else `officer_format`."""
        officers = [o["id"] for o in self.hall.get("officers", [])]
        if digits in officers:
            return digits
        found = [o for o in officers if re.sub(r"\D", "", o) and int(re.sub(r"\D", "", o)) == int(digits)]
        if len(found) == 1:
            return found[0]
        return self.officer_format.format(int(digits))

    def services(self) -> list[tuple[str, str]]:
        """Services a ticket may be transferred to, with names from the hall configuration."""
        if self.hall.get("services"):
            return [(s["code"], s["name"]) for s in self.hall["services"]]
        return [(s["code"], s["code"]) for s in (self.link.state or {}).get("services", [])]

    # ------------------------------------------------------------ lifecycle
    def start(self) -> CounterTerminal:
        self.link.on_state = lambda state: self.redraw()
        self.link.on_link = lambda available: self.redraw()
        self._ticker = threading.Thread(target=self._tick, name="terminal-tick", daemon=True)
        self._ticker.start()
        self.redraw()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            now = self.clock()
            with self._lock:
                expired = self.message is not None and now >= self._message_until
                if expired:
                    self.message = None
                if expired | self.menu.expire(now):
                    self.redraw()

    # ------------------------------------------------------------ keys
    def press(self, key: str) -> None:
        with self._lock:
            action = self.menu.press(key, self.link.state, self.clock())
            if self.menu.hint:
                self.flash(self.menu.hint)
            if action is None:
                self.redraw()
                return
            if self.pending is not None:
                self.ignored_pending += 1  # the same key pressed again while waiting: not sent twice
                return
            if not self.link.available:
                self.refused_offline += 1
                self.flash("KHÔNG GỬI ĐƯỢC")
                return
            self.pending = action
            self.redraw()
        threading.Thread(target=self._request, args=(action,), name="terminal-request", daemon=True).start()

    def _request(self, action: Action) -> None:
        reply, code = None, None
        try:
            self.sent += 1
            reply = self.link.request(action.t, action.fields, timeout=self.request_timeout, retry_s=self.retry_s)
            text = success_text(action, reply)
        except Refusal as r:
            code = r.code
            text = SHORT.get(r.code) or r.message or r.code
        except LinkDown:
            code = "link_down"
            text = "KHÔNG CÓ TRẢ LỜI"
        with self._lock:
            self.pending = None
            self.flash(text)
        if self.on_result is not None:
            self.on_result(action, reply, code)

    # ------------------------------------------------------------ screen
    def flash(self, text: str) -> None:
        with self._lock:
            self.message, self._message_until = text, self.clock() + self.message_s
            self.redraw()

    def redraw(self) -> None:
        with self._lock:
            state = self.link.state
            lines = compose(state, self.display.cols, self.display.rows, link_ok=self.link.available,
                            pending=self.pending.label if self.pending else None, message=self.message,
                            prompt=self.menu.prompt(state, self.display.rows))
            self.display.show(lines)
