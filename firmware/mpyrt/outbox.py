"""The flash queue of up messages: kept until the server replies, resent with the same id.

A message is on flash when `add` returns, so a device may confirm it to the user then: a power cut
afterwards loses nothing, the message is sent again after the reboot. Resend schedule (protocol
README, checklist item 6): first resend 3 s after a send, then doubling up to 30 s, and everything
at once after each reconnect. The timers live in RAM; after a reboot every message is due.
The queue is bounded: when full the oldest message is dropped and counted (`dropped`).
"""

import json

from mpyrt import flash, ticks


class Outbox:
    def __init__(self, path, limit=32, first_ms=3000, max_ms=30000):
        self.path = path
        self.limit = limit
        self.first_ms = first_ms
        self.max_ms = max_ms
        self.items = []  # up messages (dicts with "id"), oldest first
        self.meta = {}  # small facts saved with the queue (the rating button: the ticket it voted for)
        self.dropped = 0
        self.corrupt = False  # the file could not be read: started empty
        self._timers = {}  # id -> (resend at, interval ms)
        self._load()

    def _load(self):
        text = flash.read(self.path)
        if text is None:
            return
        try:
            doc = json.loads(text)
            items = doc["items"]
            meta = doc.get("meta", {})
            dropped = doc.get("dropped", 0)
        except (ValueError, KeyError, TypeError, AttributeError):
            self.corrupt = True
            return
        if not isinstance(items, list) or not isinstance(meta, dict) or not isinstance(dropped, int):
            self.corrupt = True
            return
        for msg in items:
            if isinstance(msg, dict) and isinstance(msg.get("id"), str):
                self.items.append(msg)
        self.meta = meta
        self.dropped = dropped

    def save(self):
        flash.write(self.path, json.dumps({"v": 1, "items": self.items, "meta": self.meta, "dropped": self.dropped}))

    def __len__(self):
        return len(self.items)

    def add(self, msg, meta=None):
        """Queue `msg` (and update `meta`) on flash; returns once both are written."""
        self.items.append(msg)
        while len(self.items) > self.limit:
            old = self.items.pop(0)
            self._timers.pop(old["id"], None)
            self.dropped += 1
        if meta:
            for key in meta:
                self.meta[key] = meta[key]
        self.save()

    def due(self, now):
        """Messages to (re)send now, oldest first."""
        out = []
        for msg in self.items:
            timer = self._timers.get(msg["id"])
            if timer is None or ticks.due(now, timer[0]):
                out.append(msg)
        return out

    def sent(self, msg_id, now):
        """`msg_id` was just published: schedule its next resend (unless its reply came meanwhile)."""
        if self.get(msg_id) is None:
            return
        timer = self._timers.get(msg_id)
        interval = self.first_ms if timer is None else min(timer[1] * 2, self.max_ms)
        self._timers[msg_id] = (ticks.add(now, interval), interval)

    def resend_all(self):
        """After a reconnect: everything is due now, on the schedule from its start."""
        self._timers = {}

    def get(self, msg_id):
        for msg in self.items:
            if msg["id"] == msg_id:
                return msg
        return None

    def settle(self, msg_id):
        """The server answered `msg_id`: forget it (on flash too). Returns the message, or None."""
        for i in range(len(self.items)):
            if self.items[i]["id"] == msg_id:
                msg = self.items.pop(i)
                self._timers.pop(msg_id, None)
                self.save()
                return msg
        return None
