"""The announcement queue plays clips in order, one at a time, whatever the timing of submissions.

The fake player blocks each clip until the test releases it, and records start/end: no sleeps.
"""

from __future__ import annotations

import threading
from pathlib import Path

from displays.voice import AnnouncementQueue


class GatedPlayer:
    """Plays a clip by waiting for the test to release it; counts overlaps."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.active = 0
        self.max_active = 0
        self.cond = threading.Condition()
        self.released: set[str] = set()

    def __call__(self, clip: Path) -> None:
        with self.cond:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.log.append(("start", clip.name))
            self.cond.notify_all()
            assert self.cond.wait_for(lambda: clip.name in self.released, 10)
            if clip.name == "broken.wav":
                self.active -= 1
                raise OSError("the speaker is unplugged")
            self.log.append(("end", clip.name))
            self.active -= 1
            self.cond.notify_all()

    def release(self, name: str) -> None:
        with self.cond:
            self.released.add(name)
            self.cond.notify_all()

    def wait(self, event: tuple[str, str], timeout: float = 5.0) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: event in self.log, timeout), f"{event} never came: {self.log}"


def test_order_and_no_overlap() -> None:
    player = GatedPlayer()
    q = AnnouncementQueue(player)
    for name in ("a.wav", "b.wav", "a.wav", "c.wav"):  # the third is a recall: announced again
        q.submit(Path(name), name)
    player.wait(("start", "a.wav"))
    with player.cond:
        assert player.log == [("start", "a.wav")]  # b waits while a plays
    player.release("a.wav")
    player.wait(("start", "b.wav"))
    player.release("b.wav")
    player.release("c.wav")
    player.wait(("end", "c.wav"))
    assert player.log == [("start", "a.wav"), ("end", "a.wav"), ("start", "b.wav"), ("end", "b.wav"),
                          ("start", "a.wav"), ("end", "a.wav"), ("start", "c.wav"), ("end", "c.wav")]
    assert player.max_active == 1 and q.played == 4
    q.close()


def test_submissions_from_many_threads_never_overlap() -> None:
    player = GatedPlayer()
    names = [f"{t}-{i}.wav" for t in range(4) for i in range(5)]
    for n in names:
        player.release(n)
    q = AnnouncementQueue(player, maxsize=100)
    threads = [threading.Thread(target=lambda t=t: [q.submit(Path(f"{t}-{i}.wav")) for i in range(5)])
               for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    q.close(timeout=10)
    starts = [n for kind, n in player.log if kind == "start"]
    assert sorted(starts) == sorted(names) and player.max_active == 1
    for t in range(4):  # each submitter's clips keep their order
        mine = [n for n in starts if n.startswith(f"{t}-")]
        assert mine == [f"{t}-{i}.wav" for i in range(5)]
    assert all(player.log[i][0] == "start" and player.log[i + 1] == ("end", player.log[i][1])
               for i in range(0, len(player.log), 2))


def test_a_failed_playback_does_not_stop_the_queue() -> None:
    player = GatedPlayer()
    q = AnnouncementQueue(player)
    q.submit(Path("broken.wav"))
    q.submit(Path("next.wav"))
    player.release("broken.wav")
    player.release("next.wav")
    player.wait(("end", "next.wav"))
    assert q.played == 1
    q.close()


def test_full_queue_drops_the_oldest_waiting_clip() -> None:
    player = GatedPlayer()
    q = AnnouncementQueue(player, maxsize=2)
    q.submit(Path("playing.wav"))
    player.wait(("start", "playing.wav"))
    for name in ("old.wav", "mid.wav", "new.wav"):
        q.submit(Path(name))
    assert q.dropped == 1
    for name in ("playing.wav", "mid.wav", "new.wav"):
        player.release(name)
    player.wait(("end", "new.wav"))
    assert [n for kind, n in player.log if kind == "start"] == ["playing.wav", "mid.wav", "new.wav"]
    q.close()
