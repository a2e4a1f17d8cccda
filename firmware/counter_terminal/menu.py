"""What a sequence of keys means: one action to send, or a step of a menu entry.

Learnable in a minute:

    A  next        B  recall      C  done       D  no-show
    *  menu / cancel               #  OK
    * 1  login: officer number #, PIN #        * 2  hold the current ticket
    * 3  transfer: counter number #, or A/B to pick a service, #
    * 4  pause / resume                        * 5  call a held ticket: A/B to pick, #
    * 0  logout: # to confirm

Pure: no I/O, time passed in; the terminal sends the actions and shows `prompt()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from firmware.counter_terminal.keys import DIGITS, DONE, MENU, NEXT, NO_SHOW, OK, RECALL

IDLE, CHOOSE, LOGIN_ID, LOGIN_PIN, TRANSFER, HELD, LOGOUT = (
    "idle", "choose", "login_id", "login_pin", "transfer", "held", "logout")
ENTRY_TIMEOUT_S = 30.0  # a half-typed PIN does not stay on the screen


@dataclass(frozen=True)
class Action:
    """One `up` message to send; `label` is what the display says while it is pending."""

    t: str
    fields: dict = field(default_factory=dict)
    label: str = ""


DIRECT = {
    NEXT: Action("call.next", {}, "GỌI SỐ TIẾP"),
    RECALL: Action("call.recall", {}, "GỌI LẠI"),
    DONE: Action("serve.done", {}, "XONG"),
    NO_SHOW: Action("call.no_show", {}, "VẮNG MẶT"),
}


class Menu:
    def __init__(self, officer_id: Callable[[str], str] = lambda digits: digits,
                 services: Callable[[], list[tuple[str, str]]] = lambda: []):
        self.officer_id = officer_id  # typed officer number -> officer id of the hall ("5" -> "o05")
        self.services = services  # [(code, name)] a ticket can be transferred to
        self.mode = IDLE
        self.buffer = ""
        self.officer = ""
        self.pick = -1
        self.hint = ""  # a short complaint about the last key (e.g. PIN too short)
        self._last_key = 0.0

    def cancel(self) -> None:
        self.mode, self.buffer, self.officer, self.pick, self.hint = IDLE, "", "", -1, ""

    def expire(self, now: float) -> bool:
        """Back to idle after ENTRY_TIMEOUT_S without a key; True when that happened."""
        if self.mode != IDLE and now - self._last_key > ENTRY_TIMEOUT_S:
            self.cancel()
            return True
        return False

    def press(self, key: str, state: dict | None, now: float) -> Action | None:
        self._last_key, self.hint = now, ""
        if self.mode == IDLE:
            if key in DIRECT:
                return DIRECT[key]
            if key == MENU:
                self.mode = CHOOSE
            return None
        if key == MENU:  # "*" always cancels an entry
            self.cancel()
            return None
        handler = getattr(self, "_" + self.mode)
        return handler(key, state or {})

    # ------------------------------------------------------------ entry modes
    def _choose(self, key: str, state: dict) -> Action | None:
        if key == "1":
            self.mode, self.buffer = LOGIN_ID, ""
        elif key == "2":
            self.cancel()
            return Action("serve.hold", {}, "GIỮ SỐ")
        elif key == "3":
            self.mode, self.buffer, self.pick = TRANSFER, "", -1
        elif key == "4":
            self.cancel()
            if state.get("status") == "paused":
                return Action("counter.resume", {}, "TIẾP TỤC")
            return Action("counter.pause", {}, "TẠM NGHỈ")
        elif key == "5":
            if not state.get("held"):
                self.cancel()
                self.hint = "KHÔNG CÓ SỐ GIỮ"
                return None
            self.mode, self.pick = HELD, 0
        elif key == "0":
            self.mode = LOGOUT
        return None

    def _digits(self, key: str, limit: int) -> None:
        if key in DIGITS and len(self.buffer) < limit:
            self.buffer += key

    def _login_id(self, key: str, state: dict) -> Action | None:
        self._digits(key, 8)
        if key == OK and self.buffer:
            self.officer, self.buffer, self.mode = self.officer_id(self.buffer), "", LOGIN_PIN
        return None

    def _login_pin(self, key: str, state: dict) -> Action | None:
        self._digits(key, 8)
        if key == OK:
            if len(self.buffer) < 4:
                self.hint = "PIN 4-8 CHỮ SỐ"
                return None
            action = Action("officer.login", {"officer": self.officer, "pin": self.buffer}, "ĐĂNG NHẬP")
            self.cancel()
            return action
        return None

    def _transfer(self, key: str, state: dict) -> Action | None:
        services = self.services()
        if key in DIGITS:
            self.pick = -1
            self._digits(key, 4)
        elif key in (NEXT, RECALL) and services:
            self.buffer = ""
            self.pick = (self.pick + (1 if key == NEXT else -1)) % len(services)
        elif key == OK:
            if self.buffer and 1 <= int(self.buffer) <= 9999:
                action = Action("serve.transfer", {"counter": int(self.buffer)}, "CHUYỂN QUẦY " + self.buffer)
            elif self.pick >= 0:
                action = Action("serve.transfer", {"service": services[self.pick][0]}, "CHUYỂN")
            else:
                return None
            self.cancel()
            return action
        return None

    def _held(self, key: str, state: dict) -> Action | None:
        held = list(state.get("held") or [])
        if not held:
            self.cancel()
            return None
        if key in (NEXT, RECALL):
            self.pick = (self.pick + (1 if key == NEXT else -1)) % len(held)
        elif key == OK:
            number = held[min(self.pick, len(held) - 1)]
            self.cancel()
            return Action("call.next", {"ticket": number}, "GỌI " + number)
        return None

    def _logout(self, key: str, state: dict) -> Action | None:
        if key == OK:
            self.cancel()
            return Action("officer.logout", {}, "ĐĂNG XUẤT")
        return None

    # ------------------------------------------------------------ what to show
    def prompt(self, state: dict | None, rows: int = 4) -> list[str] | None:
        """Lines for the entry in progress (None when idle), Vietnamese; the LCD transliterates."""
        state = state or {}
        if self.mode == CHOOSE:
            if rows < 4:
                return ["1DN 2GIỮ 3CHUYỂN", "4NGHỈ 5GỌI 0THOÁT"]
            return ["1 ĐĂNG NHẬP 2 GIỮ", "3 CHUYỂN 4 NGHỈ/TIẾP", "5 GỌI SỐ GIỮ", "0 ĐĂNG XUẤT  * HỦY"]
        if self.mode == LOGIN_ID:
            return ["ĐĂNG NHẬP", "MÃ CÁN BỘ: " + self.buffer, "# TIẾP  * HỦY"]
        if self.mode == LOGIN_PIN:
            return ["CÁN BỘ " + self.officer, "PIN: " + "*" * len(self.buffer), "# ĐỒNG Ý  * HỦY"]
        if self.mode == TRANSFER:
            services = self.services()
            target = ("QUẦY " + self.buffer) if self.buffer else (
                services[self.pick][1] if 0 <= self.pick < len(services) else "SỐ QUẦY / A B")
            return ["CHUYỂN TỚI:", target, "# ĐỒNG Ý  * HỦY"]
        if self.mode == HELD:
            held = list(state.get("held") or [])
            number = held[min(self.pick, len(held) - 1)] if held else "-"
            return ["GỌI SỐ ĐANG GIỮ:", f"{number} ({self.pick + 1}/{len(held)})", "A/B CHỌN  # GỌI"]
        if self.mode == LOGOUT:
            return ["ĐĂNG XUẤT?", "# ĐỒNG Ý  * HỦY"]
        return None
