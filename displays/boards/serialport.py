"""Opening the bus: pyserial with the line settings a board expects (installed with the `pi` extra)."""

from __future__ import annotations

from dataclasses import dataclass

import serial


@dataclass(frozen=True)
class Line:
    """Serial line settings (BoardsConfig picks 7E2 for Alpha signs, 8N1 for counter boards: set
    what the board's own setup menu says)."""

    port: str  # /dev/ttyUSB0, /dev/serial0, a pty path, or a pyserial URL (loop://, rfc2217://...)
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"  # N, E, O
    stopbits: float = 1

    def open(self) -> serial.SerialBase:
        # write_timeout: a board that holds the line (flow control) must not hang the controller
        return serial.serial_for_url(self.port, baudrate=self.baudrate, bytesize=self.bytesize,
                                     parity=self.parity, stopbits=self.stopbits, timeout=1, write_timeout=2)
