"""Top functions of a py-spy profile (`py-spy record --format raw`: one collapsed stack per line).

    .venv/bin/python -m bench.province.profile profile-sqlite.txt [--top 20] [--cumulative] [--thread mqtt-loop]

The runner takes two profiles of the server under the durable-ops load: CPU (`profile-DB.txt`,
threads that were running) and wall time per thread (`profile-DB-wall.txt`, `--idle --threads`:
where the MQTT worker spends its time, waiting included).
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def _frame(frame: str) -> str:
    """`func (path/to/file.py:123)` -> `func (file.py)`, with paths shortened after site-packages."""
    frame = _LINE.sub(")", frame.strip())
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})" if where else name


def top_functions(path: Path, top: int = 20, thread: str = "") -> list[dict]:
    """Functions by share of samples: self (the sample's innermost frame) and total (on the stack).
    `thread`: only the samples of threads whose name contains it (a profile taken with --threads)."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or thread not in stack.split(";", 1)[0]:
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        samples += n
        own[frames[-1]] += n
        for f in set(frames):
            total[f] += n
    if not samples:
        return []
    return [{"function": f, "self_pct": round(100 * n / samples, 1), "total_pct": round(100 * total[f] / samples, 1)}
            for f, n in own.most_common(top)]


def top_cumulative(path: Path, top: int = 30, thread: str = "") -> list[tuple[str, float]]:
    """Functions by share of samples with the function anywhere on the stack."""
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or thread not in stack.split(";", 1)[0]:
            continue
        samples += int(count)
        for f in {_frame(f) for f in stack.split(";") if f}:
            total[f] += int(count)
    return [(f, round(100 * n / max(1, samples), 1)) for f, n in total.most_common(top)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--cumulative", action="store_true", help="rank by time including callees")
    parser.add_argument("--thread", default="", help="only threads whose name contains this (py-spy --threads)")
    args = parser.parse_args(argv)
    if args.cumulative:
        for f, pct in top_cumulative(args.profile, args.top, args.thread):
            print(f"{pct:6.1f}%  {f}")
    else:
        for row in top_functions(args.profile, args.top, args.thread):
            print(f"{row['self_pct']:6.1f}% self {row['total_pct']:6.1f}% total  {row['function']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
