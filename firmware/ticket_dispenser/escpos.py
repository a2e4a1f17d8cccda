"""The ESC/POS commands a ticket needs, as bytes, and a parser of them for tests and simulators.

Written here rather than taken from python-escpos: a ticket uses eight commands, and that library
inserts code-page commands and feeds of its own (DESIGN.md, known traps).
"""

from __future__ import annotations

import unicodedata

from PIL import Image, ImageOps

ESC, GS, DLE, EOT, LF = 0x1B, 0x1D, 0x10, 0x04, 0x0A
INIT = b"\x1b@"
LEFT, CENTER = 0, 1
MAX_BAND = 256  # rows per GS v 0: small enough for every printer's receive buffer
BLANK_RUN = 16  # blank rows in a row worth a paper feed instead of raster data
QR_EC = {"L": 48, "M": 49, "Q": 50, "H": 51}

# DLE EOT n: real-time status; the printer answers one byte even while busy or offline
PRINTER_STATUS, OFFLINE_CAUSE, ERROR_CAUSE, PAPER_SENSOR = 1, 2, 3, 4


# DLE DC4 8: clear the receive and print buffers, in real time (a print cut off by a restart of
# the agent leaves the printer waiting for the rest of an image; this drops it before the reprint)
CLEAR_BUFFER = bytes((0x10, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08))


def status_request(n: int) -> bytes:
    return bytes((DLE, EOT, n))


def is_status_byte(b: int) -> bool:
    """Bits 1 and 4 are always 1, bits 0 and 7 always 0, in every DLE EOT answer."""
    return b & 0x93 == 0x12


def align(where: int) -> bytes:
    return bytes((ESC, ord("a"), where))


def feed_dots(n: int) -> bytes:
    out = b""
    while n > 0:
        out += bytes((ESC, ord("J"), min(n, 255)))
        n -= 255
    return out


def feed_lines(n: int) -> bytes:
    return bytes((ESC, ord("d"), n))


def text_size(width: int = 1, height: int = 1) -> bytes:
    return bytes((GS, ord("!"), ((width - 1) << 4) | (height - 1)))


def codepage(n: int) -> bytes:
    return bytes((ESC, ord("t"), n))


def cut(partial: bool = True, feed: int = 48) -> bytes:
    """GS V 66/65 n: feed to the cutter plus n dots, then cut (partial leaves a hinge)."""
    return bytes((GS, ord("V"), 66 if partial else 65, feed))


def qr(data: str, module: int = 6, ec: str = "M") -> bytes:
    """The printer's own QR code (GS ( k, model 2): ~50 bytes instead of a raster of ~3 KB."""
    payload = data.encode("ascii")
    n = len(payload) + 3

    def fn(*args: int) -> bytes:
        return bytes((GS, ord("("), ord("k"), *args))

    return (fn(4, 0, 49, 65, 50, 0) + fn(3, 0, 49, 67, module) + fn(3, 0, 49, 69, QR_EC[ec])
            + fn(n & 0xFF, n >> 8, 49, 80, 48) + payload + fn(3, 0, 49, 81, 48))


def raster(img: Image.Image) -> bytes:
    """GS v 0 bands of a black-on-white image, blank stretches sent as paper feeds."""
    mono = ImageOps.invert(img.convert("L")).convert("1", dither=Image.Dither.NONE)  # 1 bit = a dot
    width = (mono.width + 7) // 8
    data = mono.tobytes()
    rows = [data[i * width:(i + 1) * width] for i in range(mono.height)]
    blank = bytes(width)
    out, start, y = bytearray(), 0, 0
    while y < len(rows):
        if rows[y] == blank:
            end = y
            while end < len(rows) and rows[end] == blank:
                end += 1
            if end - y >= BLANK_RUN or end == len(rows):
                out += _bands(rows[start:y], width) + feed_dots(end - y)
                start = end
            y = end
        else:
            y += 1
    out += _bands(rows[start:], width)
    return bytes(out)


def _bands(rows: list[bytes], width: int) -> bytes:
    out = bytearray()
    for i in range(0, len(rows), MAX_BAND):
        band = rows[i:i + MAX_BAND]
        out += bytes((GS, ord("v"), ord("0"), 0, width & 0xFF, width >> 8, len(band) & 0xFF, len(band) >> 8))
        out += b"".join(band)
    return bytes(out)


def cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258: base letters with circumflex, breve or horn precomposed, tone
    marks as combining characters after them (the code page has no precomposed "ế")."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], list(parts[1:])
        for m in list(marks):  # fold the marks the code page has precomposed letters for
            composed = unicodedata.normalize("NFC", base + m)
            if len(composed) == 1 and _encodable(composed):
                base = composed
                marks.remove(m)
        for c in (base, *marks):
            out += c.encode("cp1258", errors="replace")
    return bytes(out)


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp1258")
        return True
    except UnicodeEncodeError:
        return False


# ---------------------------------------------------------------- parsing (tests, simulators)
def parse(data: bytes) -> list[tuple[str, object]]:
    """Split a byte stream into (command, argument) pairs: ("init", None), ("raster", (w, h, bytes)),
    ("qr", text), ("cut", mode), ("status", n), ("text", bytes), ("feed", n), ("align", n), ...
    Raises ValueError on a command it does not know, so a test sees stray bytes."""
    out: list[tuple[str, object]] = []
    i, n = 0, len(data)
    text = bytearray()

    def flush_text() -> None:
        if text:
            out.append(("text", bytes(text)))
            text.clear()

    while i < n:
        b = data[i]
        if b not in (ESC, GS, DLE):
            text.append(b)
            i += 1
            continue
        flush_text()
        if b == DLE and data[i + 1] == EOT:
            out.append(("status", data[i + 2]))
            i += 3
        elif data[i:i + len(CLEAR_BUFFER)] == CLEAR_BUFFER:
            out.append(("clear", None))
            i += len(CLEAR_BUFFER)
        elif b == ESC:
            c = data[i + 1]
            if c == ord("@"):
                out.append(("init", None))
                i += 2
            elif c in b"aJdtE!":
                name = {ord("a"): "align", ord("J"): "feed", ord("d"): "feed_lines", ord("t"): "codepage",
                        ord("E"): "bold", ord("!"): "mode"}[c]
                out.append((name, data[i + 2]))
                i += 3
            else:
                raise ValueError(f"unknown ESC {c:#04x} at {i}")
        elif b == GS:
            c = data[i + 1]
            if c == ord("v") and data[i + 2] == ord("0"):
                w = data[i + 4] | data[i + 5] << 8
                h = data[i + 6] | data[i + 7] << 8
                out.append(("raster", (w, h, data[i + 8:i + 8 + w * h])))
                i += 8 + w * h
            elif c == ord("("):
                size = data[i + 3] | data[i + 4] << 8
                body = data[i + 5:i + 5 + size]
                if body[:3] == b"\x31\x50\x30":
                    out.append(("qr", body[3:].decode("ascii")))
                elif body[:2] == b"\x31\x51":
                    out.append(("qr_print", None))
                else:
                    out.append(("qr_setup", bytes(body)))
                i += 5 + size
            elif c == ord("V"):
                mode = data[i + 2]
                out.append(("cut", mode))
                i += 4 if mode in (65, 66) else 3
            elif c == ord("!"):
                out.append(("size", data[i + 2]))
                i += 3
            else:
                raise ValueError(f"unknown GS {c:#04x} at {i}")
        else:
            text.append(b)
            i += 1
    flush_text()
    return out
