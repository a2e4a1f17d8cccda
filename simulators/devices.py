"""Virtual devices: the same link a real Pi agent uses, driven by a script instead of keys."""

from __future__ import annotations

from firmware.pilink import DeviceLink, Refusal


class VirtualDispenser:
    def __init__(self, url: str, hall: str, device: str):
        self.link = DeviceLink(url, hall, device, fw="sim", health={"paper": "ok"})

    def take(self, service: str, priority: str | None = None, **kw) -> dict:
        return self.link.request("ticket.take", {"service": service, "priority": priority}, **kw)["ticket"]


class VirtualTerminal:
    def __init__(self, url: str, hall: str, device: str):
        self.link = DeviceLink(url, hall, device, fw="sim")

    def login(self, officer: str, pin: str) -> dict:
        return self.link.request("officer.login", {"officer": officer, "pin": pin})

    def press(self, t: str, **fields) -> dict:
        return self.link.request(t, fields or None)

    def call_next(self) -> dict | None:
        """The next ticket, or None when nobody waits."""
        try:
            return self.link.request("call.next")["ticket"]
        except Refusal as r:
            if r.code == "queue_empty":
                return None
            raise


class VirtualRatingButton:
    def __init__(self, url: str, hall: str, device: str):
        self.link = DeviceLink(url, hall, device, fw="sim")

    def vote(self, score: str, reason: str | None = None, ticket: str | None = None) -> dict:
        return self.link.request("rating.vote", {"score": score, "reason": reason, "ticket": ticket})


class VirtualLed:
    """Shows what its retained state says; keeps the number it last showed."""

    def __init__(self, url: str, hall: str, device: str):
        self.link = DeviceLink(url, hall, device, fw="sim")

    @property
    def text(self) -> str:
        state = self.link.state or {}
        if state.get("status") in ("paused", "closed"):
            return "----"
        return state.get("number") or "    "


def start_all(*devices) -> None:
    for d in devices:
        d.link.start()


def close_all(*devices) -> None:
    for d in devices:
        d.link.close()
