"""Fans the board and each call out to browser streams (server-sent events).

Publications come from the MQTT worker thread; each browser stream is an asyncio queue on the
server's event loop, fed through call_soon_threadsafe. A slow browser loses old boards (the newest
board replaces them), never the server's time.
"""

from __future__ import annotations

import asyncio
import json

from hallserver.outputs import Publication

QUEUE_SIZE = 64


class Hub:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: set[asyncio.Queue] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def on_publish(self, pub: Publication) -> None:
        """Adapter hook (any thread): forward boards and calls to the browsers."""
        leaf = pub.topic.rsplit("/", 1)[-1]
        if leaf in ("board", "calls") and self.loop is not None and self.queues:
            kind = "board" if leaf == "board" else "call"
            self.loop.call_soon_threadsafe(self._fanout, kind, pub.payload)

    def _fanout(self, kind: str, payload: dict) -> None:
        for q in list(self.queues):
            if q.full():
                try:
                    q.get_nowait()
                except asyncio.QueueEmpty:
                    pass
            q.put_nowait((kind, payload))

    def close(self) -> None:
        """End every stream (any thread), so the server can stop without waiting on browsers."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._fanout, "close", {})

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self.queues.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.queues.discard(q)


def sse(kind: str, payload: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"
