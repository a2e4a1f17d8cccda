"""The ticket printer: ESC/POS bytes out, DLE EOT real-time status in, over a serial line (pyserial:
/dev/ttyUSB0, /dev/ttyACM0, /dev/serial0, socket://host:9100) or a USB printer-class device
(/dev/usb/lp0). The port is an interface so tests use a pty and simulators anything."""

from __future__ import annotations

import logging
import os
import select
import time
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

    def write(self, data: bytes) -> None:
        self.serial.write(data)
        self.serial.flush()  # returns when the bytes left the UART (or the pty)

    def read(self, n: int, timeout: float) -> bytes:
        self.serial.timeout = timeout
        return self.serial.read(n)

    def reset_input(self) -> None:
        self.serial.reset_input_buffer()

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
    printer: str = "ok"  # ok | cover_open | offline | error | no_response | unknown

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
    def __init__(self, port: PrinterPort, query_status: bool = True, status_timeout: float = 0.5):
        self.port = port
        self.query_status = query_status  # some cheap printers never answer DLE EOT
        self.status_timeout = status_timeout
        self.bytes_written = 0

    def _ask(self, n: int) -> int | None:
        self.port.write(escpos.status_request(n))
        deadline = time.monotonic() + self.status_timeout
        while (left := deadline - time.monotonic()) > 0:
            got = self.port.read(1, left)
            if got and escpos.is_status_byte(got[0]):
                return got[0]
        return None

    def status(self) -> PrinterStatus:
        if not self.query_status:
            return PrinterStatus("ok", "unknown")
        self.port.reset_input()
        printer = self._ask(escpos.PRINTER_STATUS)
        if printer is None:
            return decode_status(None, None, None)
        return decode_status(printer, self._ask(escpos.OFFLINE_CAUSE), self._ask(escpos.PAPER_SENSOR))

    def clear(self) -> None:
        """Drop whatever a previous run left half-sent in the printer (at start)."""
        self.port.write(escpos.CLEAR_BUFFER)

    def print_bytes(self, data: bytes, chunk: int = 4096) -> None:
        """Write a whole ticket; returns when every byte left the port."""
        for i in range(0, len(data), chunk):
            self.port.write(data[i:i + chunk])
            self.bytes_written += min(chunk, len(data) - i)

    def close(self) -> None:
        self.port.close()
