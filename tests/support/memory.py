"""Python allocations counted by tracemalloc: what a piece of code keeps, deterministically (RSS
depends on the allocator and the machine; these counts do not)."""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
from collections.abc import Iterator


@contextlib.contextmanager
def traced() -> Iterator[None]:
    """Trace allocations inside the block (left running if something else already traces)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        yield
    finally:
        if started:
            tracemalloc.stop()


def traced_now() -> int:
    """Bytes allocated and still alive now, after a full collection."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]
