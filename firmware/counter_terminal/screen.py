"""What the terminal's LCD shows, composed from the retained state (never the terminal's own idea
of the queue), the link, the request in flight and the last reply. Pure; Vietnamese text, which
the LCD driver transliterates."""

from __future__ import annotations

import protocols

LINK_DOWN = protocols.message("link_down")  # "MẤT KẾT NỐI"

# short texts for the replies an officer meets every day; others show error.message, wrapped
SHORT = {
    "queue_empty": "HẾT SỐ CHỜ",
    "wrong_pin": "SAI MÃ HOẶC PIN",
    "too_many_attempts": "SAI NHIỀU LẦN, CHỜ",
    "not_logged_in": "CHƯA ĐĂNG NHẬP",
    "already_logged_in": "ĐÃ CÓ CÁN BỘ",
    "officer_busy": "ĐANG Ở QUẦY KHÁC",
    "counter_busy": "ĐANG PHỤC VỤ SỐ",
    "counter_paused": "ĐANG TẠM NGHỈ",
    "counter_closed": "QUẦY ĐÃ ĐÓNG",
    "no_current_ticket": "CHƯA CÓ SỐ",
    "not_paused": "KHÔNG TẠM NGHỈ",
    "bad_transfer": "KHÔNG CHUYỂN ĐƯỢC",
    "unknown_counter": "KHÔNG CÓ QUẦY",
    "unknown_service": "KHÔNG CÓ DỊCH VỤ",
    "unknown_ticket": "KHÔNG CÓ SỐ",
    "unavailable": "MÁY CHỦ BẬN",
    "link_down": LINK_DOWN,
}


def wrap(text: str, cols: int, max_lines: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= cols:
            lines[-1] += " " + word
        else:
            lines.append(word[:cols])
    return lines[:max_lines] or [""]


def current_line(state: dict | None) -> str:
    cur = (state or {}).get("current")
    if not cur:
        return "SỐ: ---"
    word = f"GỌI LẠI {cur['recalls']}" if cur.get("recalls") else "ĐANG GỌI"
    return f"SỐ {cur['number']} {word}"


def waiting_line(state: dict | None) -> str:
    state = state or {}
    parts = [f"{s['prefix']}:{s['waiting']}" for s in state.get("services", [])]
    line = "CHỜ " + " ".join(parts) if parts else "CHỜ -"
    if state.get("held"):
        line += f" GIỮ:{len(state['held'])}"
    return line


def status_line(state: dict | None) -> str:
    state = state or {}
    if state.get("status") == "paused":
        return "TẠM NGHỈ" + (f": {state['pause_reason']}" if state.get("pause_reason") else "")
    if state.get("status") == "closed" or not state.get("officer"):
        return "*1 ĐỂ ĐĂNG NHẬP"
    return "A TIẾP B LẠI C XONG"


def compose(state: dict | None, cols: int, rows: int, *, link_ok: bool, pending: str | None = None,
            message: str | None = None, prompt: list[str] | None = None) -> list[str]:
    """The whole screen; the bottom line always says when the link is down."""
    bottom = LINK_DOWN if not link_ok else (f"ĐANG GỬI: {pending}" if pending else None)
    if prompt is not None:
        lines = list(prompt[:rows])
        if bottom:
            lines = (lines + [""] * rows)[: rows - 1] + [bottom]
        return lines
    if state is None and link_ok:
        bottom = bottom or "ĐANG TẢI..."
    if rows >= 4:
        officer = (state or {}).get("officer")
        name = (state or {}).get("counter_name", "")
        if officer:
            lines = [f"{name} {officer['name']}".strip(), current_line(state), waiting_line(state)]
        else:
            lines = [name, "CHƯA ĐĂNG NHẬP", waiting_line(state)]
        if bottom:
            return lines[:2] + [message or lines[2], bottom]
        if message and len(message) > cols:
            return lines[:2] + wrap(message, cols, 2)
        return lines + [message or status_line(state)]
    top = current_line(state) if (state or {}).get("officer") else "CHƯA ĐĂNG NHẬP"
    if bottom:
        return [message or top, bottom]
    return [top, message or waiting_line(state)]
