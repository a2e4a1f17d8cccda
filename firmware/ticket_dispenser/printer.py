"""The ticket printer: ESC/POS bytes out, DLE EOT real-time status in, over a serial line (pyserial:
/dev/ttyUSB0, /dev/ttyACM0, /dev/serial0, socket://host:9100) or a USB printer-class device
(/dev/usb/lp0). The port is an interface so tests use a pty and simulators anything."""

from __future__ import annotations

import logging
import os
import select
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from firmware.ticket_dispenser import escpos

log = logging.getLogger(__name__)


class PrinterPort(Protocol):
    def write(self, data: bytes) -> None: ...
    def read(self, n: int, timeout: float) -> bytes: ...
    def reset_input(self) -> None: ...
    def close(self) -> None: ...


class SerialPort:
    def __init__(self, url: str, baudrate: int = 115200, rtscts: bool = False):
        import serial

        self.serial = serial.serial_for_url(url, baudrate=baudrate, rtscts=rtscts, timeout=1, write_timeout=30)

    # a line that went away fails as SerialException (an OSError) or, from tcdrain and friends, as
    # termios.error, which is not one: both become OSError, what Printer treats as "disconnected"
    def write(self, data: bytes) -> None:
        try:
            self.serial.write(data)
            self.serial.flush()  # returns when the bytes left the UART (or the pty)
        except termios.error as exc:
            raise OSError(*exc.args) from exc

    def read(self, n: int, timeout: float) -> bytes:
        try:
            self.serial.timeout = timeout
            return self.serial.read(n)
        except termios.error as exc:
            raise OSError(*exc.args) from exc

    def reset_input(self) -> None:
        try:
            self.serial.reset_input_buffer()
        except termios.error as exc:
            raise OSError(*exc.args) from exc

    def close(self) -> None:
        self.serial.close()


class DevicePort:
    """A USB printer-class device node: plain writes, reads when the printer is bidirectional."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def read(self, n: int, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return os.read(self.fd, n) if ready else b""

    def reset_input(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            if not os.read(self.fd, 256):
                return

    def close(self) -> None:
        os.close(self.fd)


def open_port(url: str, baudrate: int = 115200, rtscts: bool = False) -> PrinterPort:
    if url.startswith("/dev/usb/lp"):
        return DevicePort(url)
    return SerialPort(url, baudrate, rtscts)


@dataclass(frozen=True)
class PrinterStatus:
    paper: str = "ok"  # ok | near_end | out
    printer: str = "ok"  # ok | cover_open | offline | error | no_response | disconnected | unknown

    @property
    def refusal(self) -> str | None:
        """The error code a dispenser shows instead of issuing, or None when it can print."""
        if self.paper == "out":
            return "paper_out"
        if self.printer not in ("ok", "unknown"):
            return "printer_error"
        return None


def decode_status(printer: int | None, offline: int | None, paper: int | None) -> PrinterStatus:
    """DLE EOT 1 (printer), 2 (offline cause) and 4 (paper sensor) answers -> a status."""
    if printer is None:
        return PrinterStatus("ok", "no_response")
    level = "ok"
    if paper is not None:
        if paper & 0x60:  # roll end sensor: no paper
            level = "out"
        elif paper & 0x0C:  # near-end sensor
            level = "near_end"
    if offline is not None:
        if offline & 0x20:
            level = "out"
        if offline & 0x04:
            return PrinterStatus(level, "cover_open")
        if offline & 0x40:
            return PrinterStatus(level, "error")
    if printer & 0x08:  # offline for another reason (paper end included)
        return PrinterStatus(level, "offline")
    return PrinterStatus(level, "ok")


class Printer:
    """The ESC/POS printer behind a port. A port that fails (a USB cable pulled, a serial adapter
    gone) makes the printer `disconnected` instead of stopping the dispenser; with `reopen` the
    next status check opens the port again, so plugging the printer back in is enough."""

    def __init__(self, port: PrinterPort | None, query_status: bool = True, status_timeout: float = 0.5,
                 reopen: Callable[[], PrinterPort] | None = None):
        self.port = port
        self.query_status = query_status  # some cheap printers never answer DLE EOT
        self.status_timeout = status_timeout
        self.reopen = reopen
        self.bytes_written = 0

    def _open(self) -> PrinterPort:
        if self.port is None:
            if self.reopen is None:
                raise OSError("the printer's port is closed")
            self.port = self.reopen()
        return self.port

    def _lost(self, exc: OSError) -> None:
        log.warning("printer port failed: %s", exc)
        if self.reopen is None or self.port is None:
            return  # nothing to open again with: keep the port, it may recover (a pty, a network printer)
        port, self.port = self.port, None
        try:
            port.close()
        except OSError:
            pass

    def _ask(self, n: int) -> int | None:
        port = self._open()
        port.write(escpos.status_request(n))
        deadline = time.monotonic() + self.status_timeout
        while (left := deadline - time.monotonic()) > 0:
            got = port.read(1, left)
            if got and escpos.is_status_byte(got[0]):
                return got[0]
        return None

    def status(self) -> PrinterStatus:
        try:
            port = self._open()
            if not self.query_status:
                return PrinterStatus("ok", "unknown")
            port.reset_input()
            printer = self._ask(escpos.PRINTER_STATUS)
            if printer is None:
                return decode_status(None, None, None)
            return decode_status(printer, self._ask(escpos.OFFLINE_CAUSE), self._ask(escpos.PAPER_SENSOR))
        except OSError as exc:  # pyserial's SerialException is an OSError too
            self._lost(exc)
            return PrinterStatus("ok", "disconnected")

    def clear(self) -> None:
        """Drop whatever a previous run left half-sent in the printer (at start)."""
        try:
            self._open().write(escpos.CLEAR_BUFFER)
        except OSError as exc:
            self._lost(exc)

    def print_bytes(self, data: bytes, chunk: int = 4096) -> None:
        """Write a whole ticket; returns when every byte left the port. Raises OSError if the
        port fails (the ticket stays in the journal, printed again once the printer is back)."""
        try:
            port = self._open()
            for i in range(0, len(data), chunk):
                port.write(data[i:i + chunk])
                self.bytes_written += min(chunk, len(data) - i)
        except OSError as exc:
            self._lost(exc)
            raise

    def close(self) -> None:
        if self.port is not None:
            self.port.close()
