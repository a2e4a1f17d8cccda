"""The MicroPython rating button and LED display of the demo: their own programs (logic, link and
flash queue from firmware/), run on the host by simulators/mpyhost.py, with buttons pressed by a
script. One thread steps every board in turn, as each board's main loop would."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from simulators.mpyhost import HostBoard, board_paths, ticks_ms

board_paths()

import ledview  # noqa: E402  (a board module: found on the board's paths)
import rating  # noqa: E402
from mpyrt.backoff import Backoff  # noqa: E402
from mpyrt.ids import Ids  # noqa: E402
from mpyrt.link import Link  # noqa: E402
from mpyrt.outbox import Outbox  # noqa: E402

STEP_S = 0.02


class SimRatingButton(HostBoard):
    def __init__(self, url: str, hall: str, device: str, flash: Path | None = None,
                 backoff: tuple[int, int] = (500, 15000), settings: dict[str, object] | None = None):
        super().__init__(url, hall, device, flash or Path(tempfile.mkdtemp(prefix=f"sim-{device}-")), settings)
        self.outbox = Outbox(str(self.flash / "votes.json"))
        self.ids = Ids(str(self.flash / "boot.count"), "sim")  # message ids, with the boot count in flash
        self.app = rating.RatingButton(self.outbox, self.ids, 3, 4)
        self.link = Link(hall, device, self.make_client, None, rating.VERSION, 30, Backoff(*backoff),
                         outbox=self.outbox, log=self.say)
        self.link.on_state, self.link.on_reply, self.link.on_change = (
            self.app.on_state, self.app.on_reply, self.app.on_link)
        self.raw = [False] * 7
        self.lock = threading.Lock()

    def step(self) -> None:
        with self.lock:
            now = ticks_ms()
            self.app.sample(self.raw, now)
            self.link.step(now)
            self.app.tick(now)

    def hold(self, i: int, down: bool) -> None:
        with self.lock:
            self.raw[i] = down

    @property
    def armed_for(self) -> str | None:
        return self.app.ticket if self.app.mode == "armed" else None


class SimLed(HostBoard):
    def __init__(self, url: str, hall: str, device: str, backoff: tuple[int, int] = (500, 15000),
                 flash: Path | None = None, settings: dict[str, object] | None = None):
        super().__init__(url, hall, device, flash or Path(tempfile.mkdtemp(prefix=f"sim-{device}-")), settings)
        self.view = ledview.LedView(4, 5000)
        self.link = Link(hall, device, self.make_client, None, ledview.VERSION, 30, Backoff(*backoff),
                         log=self.say)
        self.link.on_state, self.link.on_change = self.view.on_state, self.view.on_link

    def step(self) -> None:
        self.link.step(ticks_ms())


class BoardLoop:
    """Steps every simulated board every STEP_S (their main loops), on one thread."""

    def __init__(self, boards: list[HostBoard]):
        self.boards = boards
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mpy-boards", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(STEP_S):
            for board in self.boards:
                try:
                    board.step()
                except OSError:  # the board's link copes with its network; the loop goes on
                    pass

    def press(self, board: SimRatingButton, i: int) -> None:
        """Hold a button long enough for the board's debouncing (a few of its loop turns)."""
        board.hold(i, True)
        self.stop.wait(0.1)
        board.hold(i, False)
        self.stop.wait(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for board in self.boards:
            for client in board.clients:
                if not client.dead:
                    client.close()


def vote(loop: BoardLoop, board: SimRatingButton, ticket: str, score: str, reason: str | None,
         timeout: float = 10.0) -> bool:
    """A citizen presses the level (and a reason after "Không hài lòng") once the board is armed for
    their ticket; True when the server accepted it."""
    deadline = time.monotonic() + timeout
    while board.armed_for != ticket:
        if loop.stop.wait(0.05) or time.monotonic() > deadline:
            return False
    accepted = board.app.counts["accepted"]
    loop.press(board, board.app.levels.index(score))
    if reason is not None and reason in board.app.reasons:
        loop.press(board, board.app.n_levels + board.app.reasons.index(reason))
    while board.app.counts["accepted"] == accepted:
        if loop.stop.wait(0.05) or time.monotonic() > deadline:
            return False
    return True
