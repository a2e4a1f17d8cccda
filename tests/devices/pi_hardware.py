"""Hardware stand-ins for the Pi agents' tests (and simulators): gpiozero mock pins wired as a 4x4
key matrix, and a printer at the far end of a pty that answers DLE EOT and records what it was sent.
(A module of its own: `from conftest import ...` is ambiguous between the suite's conftest files.)"""

from __future__ import annotations

import os
import threading
import time
import tty

from gpiozero.pins.mock import MockFactory, MockPin

from firmware.counter_terminal.keys import MATRIX_4X4
from firmware.ticket_dispenser import escpos

ROWS, COLS = (5, 6, 13, 19), (12, 16, 20, 21)


class KeyMatrix:
    """A 4x4 membrane keypad: a pressed key connects its row to its column. Rows are the agent's
    outputs (driven low to scan), columns its pulled-up inputs."""

    def __init__(self, factory: MockFactory, rows=ROWS, cols=COLS, layout=MATRIX_4X4):
        self.layout = layout
        self.pressed: set[tuple[int, int]] = set()
        matrix = self

        class RowPin(MockPin):
            def _change_state(self, value):
                changed = super()._change_state(value)
                matrix.settle()
                return changed

        self.rows = [factory.pin(p, pin_class=RowPin) for p in rows]
        self.cols = [factory.pin(p) for p in cols]
        self._lock = threading.Lock()

    def settle(self) -> None:
        for c, col in enumerate(self.cols):
            if col.function != "input":
                continue
            low = any(not row.state and (r, c) in self.pressed
                      for r, row in enumerate(self.rows) if row.function == "output")
            col.drive_low() if low else col.drive_high()

    def _where(self, key: str) -> tuple[int, int]:
        return next((r, c) for r, row in enumerate(self.layout) for c, k in enumerate(row) if k == key)

    def down(self, key: str) -> None:
        self.pressed.add(self._where(key))
        self.settle()

    def up(self, key: str) -> None:
        self.pressed.discard(self._where(key))
        self.settle()


class PtyPrinter:
    """The printer end of a pty: answers DLE EOT with `status` bytes, keeps every byte written,
    and signals each complete ticket (parsed up to its cut)."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.data = bytearray()
        self.status = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}  # online, no cause, no error, paper adequate
        self.answer = True
        self.cut_times: list[float] = []
        self.cleared = 0
        self._committed = 0  # bytes up to the last complete ticket
        self._cond = threading.Condition()
        self._tail = b""
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self._serve()
        except OSError:  # closed at the end of the test
            return

    def _serve(self) -> None:
        while not self._stop:
            chunk = os.read(self.master, 65536)
            now = time.monotonic()
            scan = self._tail + chunk
            for i in range(len(scan) - 2):
                # a request split over two reads is seen whole here (the tail never holds a whole one)
                if scan[i] == escpos.DLE and scan[i + 1] == escpos.EOT and scan[i + 2] in self.status and self.answer:
                    os.write(self.master, bytes([self.status[scan[i + 2]]]))
            self._tail = scan[-2:]
            with self._cond:
                self.data += chunk
                clear = self.data.find(escpos.CLEAR_BUFFER, self._committed)
                if clear >= 0:  # like the printer: drop a job left half-received
                    self.data[self._committed:] = self.data[clear + len(escpos.CLEAR_BUFFER):]
                    self.cleared += 1
                cuts = self._cuts()
                while len(self.cut_times) < cuts:
                    self.cut_times.append(now)
                    self._committed = self.data.rfind(b"\x1dV") + 4
                self._cond.notify_all()

    def _cuts(self) -> int:
        end = self.data.rfind(b"\x1dV")
        if end < 0:
            return len(self.cut_times)
        try:
            return sum(1 for kind, _ in escpos.parse(bytes(self.data[:end + 4])) if kind == "cut")
        except (ValueError, IndexError):  # a cut-like pair inside raster data: wait for more
            return len(self.cut_times)

    def tickets(self) -> list[list[tuple[str, object]]]:
        """The jobs received, each from its ESC @ to its cut (status queries left out)."""
        jobs, job = [], None
        for kind, arg in escpos.parse(bytes(self.data)):
            if kind == "init":
                job = [(kind, arg)]
            elif job is not None and kind != "status":
                job.append((kind, arg))
                if kind == "cut":
                    jobs.append(job)
                    job = None
        return jobs

    def wait_bytes(self, n: int, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.data) >= n, timeout):
                raise TimeoutError(f"{len(self.data)} bytes received, expected {n}")

    def wait_cuts(self, n: int, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.cut_times) >= n, timeout):
                raise TimeoutError(f"{len(self.cut_times)} tickets printed, expected {n}")

    def close(self) -> None:
        self._stop = True
        os.close(self.slave)
        os.close(self.master)


def ticket_numbers(job: list[tuple[str, object]]) -> list[str]:
    """QR payloads of a job (the tracking URL), for matching a print with a server ticket."""
    return [str(arg) for kind, arg in job if kind == "qr"]
