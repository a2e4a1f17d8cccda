"""A simple, configurable ASCII framing for 7-segment counter number boards.

Local makers' boards (the 4-digit "số quầy / số đang phục vụ" boards over RS-485) mostly speak
some variant of: start byte, the board's address as ASCII digits, the text padded to the number
of digits, a one-byte checksum as two ASCII hex digits, end byte. `Framing` describes the variant;
the default is

    STX (02) | address, 2 decimal digits | text, right-aligned to 4 | XOR of address+text, 2 hex | ETX (03)

e.g. address 3, "B001" -> 02 "03" "B001" "70" 03 (the XOR of the bytes "03B001" is 0x70).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import reduce

from displays.boards.base import BoardDriver, Port, ascii_text

log = logging.getLogger(__name__)
CHECKSUMS = ("xor", "sum", "none")


@dataclass(frozen=True)
class Framing:
    start: bytes = b"\x02"
    end: bytes = b"\x03"
    address_digits: int = 2
    address_hex: bool = False  # address as hex digits instead of decimal
    width: int = 4  # characters the board shows; longer text keeps its right-most characters
    align: str = "right"  # or "left"
    pad: str = " "
    letters: bool = True  # False: digits-only boards get "001" for "B001"
    checksum: str = "xor"  # "xor", "sum" (mod 256) or "none"
    checksum_start: bool = False  # include the start byte in the checksum
    upper_hex: bool = True

    def __post_init__(self) -> None:
        if self.checksum not in CHECKSUMS:
            raise ValueError(f"checksum must be one of {CHECKSUMS}, got {self.checksum!r}")
        if self.align not in ("right", "left") or len(self.pad) != 1:
            raise ValueError("align is right or left, pad one character")

    @classmethod
    def from_dict(cls, raw: dict) -> Framing:
        """From TOML: start/end given as integers (2) or hex strings ("02", "0203")."""
        kw = dict(raw)
        for key in ("start", "end"):
            value = kw.get(key)
            if isinstance(value, int):
                kw[key] = bytes([value])
            elif isinstance(value, str):
                kw[key] = bytes.fromhex(value)
        return cls(**kw)


def checksum(data: bytes, kind: str) -> int:
    if kind == "xor":
        return reduce(lambda a, b: a ^ b, data, 0)
    if kind == "sum":
        return sum(data) & 0xFF
    raise ValueError(kind)


class SevenSegment(BoardDriver):
    def __init__(self, port: Port, framing: Framing | None = None):
        super().__init__(port)
        self.framing = framing or Framing()

    def fit(self, text: str) -> str:
        """The text as the board shows it: ASCII, digits only if need be, cut or padded to width."""
        f = self.framing
        text = ascii_text(text)
        if not f.letters:
            text = "".join(c for c in text if c.isdigit() or c in " -")
        if len(text) > f.width:
            log.warning("%r is longer than the board's %d characters", text, f.width)
            text = text[-f.width:]
        return text.rjust(f.width, f.pad) if f.align == "right" else text.ljust(f.width, f.pad)

    def frame(self, address: int, text: str, blink: bool = False) -> bytes:
        f = self.framing
        limit = 16 ** f.address_digits if f.address_hex else 10 ** f.address_digits
        if not 0 <= address < limit:
            raise ValueError(f"address {address} does not fit in {f.address_digits} digits")
        addr = (f"{address:0{f.address_digits}X}" if f.address_hex else f"{address:0{f.address_digits}d}").encode()
        payload = addr + self.fit(text).encode()
        tail = b""
        if f.checksum != "none":
            value = checksum((f.start if f.checksum_start else b"") + payload, f.checksum)
            tail = (b"%02X" if f.upper_hex else b"%02x") % value
        return f.start + payload + tail + f.end
