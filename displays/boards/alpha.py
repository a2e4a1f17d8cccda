"""The Alpha Sign Communications Protocol (Alpha/Adaptive Micro Systems LED message signs,
BetaBrite and the many boards that copy it): write a TEXT file that the sign shows.

Reference: "Alpha Sign Communications Protocol" (M-Protocol), Adaptive Micro Systems, document
97088061, https://www.alpha-american.com/alpha-manuals/M-Protocol.pdf — section "Transmission
packet" and the Write TEXT command ("A"). A packet, byte by byte:

    NUL x5        00 00 00 00 00   sync: lets the sign detect the baud rate
    SOH           01               start of header
    type code     "Z" (5A)         all sign types ("!" and others address one model)
    sign address  "00".."FF"       two ASCII hex digits; "00" is every sign on the line
    STX           02               start of text
    command       "A" (41)         Write TEXT file
    file label    "A" (41)         the text file to write ("0" is the priority file)
    ESC           1B               starts the mode field
    position      " " (20) middle line, '"' (22) top, "&" (26) bottom, "0" (30) fill
    mode          "a" (61) rotate, "b" (62) hold, "c" (63) flash, ...
    [colour]      1C + "1" red, "2" green, "3" amber, "4" dim red, "5" dim green, "6" brown,
                  "7" orange, "8" yellow, "9" rainbow 1, "A" rainbow 2, "B" colour mix, "C" auto
    text          ASCII
    [ETX + checksum]  optional: 03 then four ASCII hex digits of the 16-bit sum of the bytes from
                  STX through ETX (off by default: signs accept packets without it)
    EOT           04               end of transmission

Serial line: the manual's default is 9600 baud, 7 data bits, even parity, 2 stop bits (many signs
are set to 8N1 or other rates: see `displays.boards.serialport`).
"""

from __future__ import annotations

from displays.boards.base import BoardDriver, Port, ascii_text

NUL, SOH, STX, ETX, EOT, ESC, COLOR = b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x1b", b"\x1c"
SYNC = NUL * 5
ALL_SIGNS = "Z"
WRITE_TEXT = "A"
POSITIONS = {"middle": " ", "top": '"', "bottom": "&", "fill": "0", "left": "1", "right": "2"}
MODES = {"rotate": "a", "hold": "b", "flash": "c", "roll_up": "e", "roll_down": "f", "roll_left": "g",
         "roll_right": "h", "wipe_up": "i", "wipe_down": "j", "wipe_left": "k", "wipe_right": "l",
         "scroll": "m", "automode": "o"}
COLORS = {"red": "1", "green": "2", "amber": "3", "dim_red": "4", "dim_green": "5", "brown": "6",
          "orange": "7", "yellow": "8", "rainbow1": "9", "rainbow2": "A", "mix": "B", "auto": "C"}


class AlphaSign(BoardDriver):
    def __init__(self, port: Port, type_code: str = ALL_SIGNS, label: str = "A", position: str = "middle",
                 mode: str = "hold", blink_mode: str = "flash", color: str | None = None, checksum: bool = False):
        super().__init__(port)
        for name, value, table in (("position", position, POSITIONS), ("mode", mode, MODES),
                                   ("blink_mode", blink_mode, MODES)):
            if value not in table:
                raise ValueError(f"unknown Alpha {name} {value!r}: one of {', '.join(table)}")
        if color is not None and color not in COLORS:
            raise ValueError(f"unknown Alpha colour {color!r}: one of {', '.join(COLORS)}")
        if len(type_code) != 1 or len(label) != 1:
            raise ValueError("type code and file label are one character each")
        self.type_code, self.label, self.position = type_code, label, position
        self.mode, self.blink_mode, self.color, self.checksum = mode, blink_mode, color, checksum

    def frame(self, address: int, text: str, blink: bool = False) -> bytes:
        if not 0 <= address <= 0xFF:
            raise ValueError(f"an Alpha sign address is 0..255 (00..FF), got {address}")
        mode = MODES[self.blink_mode if blink else self.mode]
        body = (STX + (WRITE_TEXT + self.label).encode() + ESC + (POSITIONS[self.position] + mode).encode()
                + (COLOR + COLORS[self.color].encode() if self.color else b"") + ascii_text(text).encode())
        if self.checksum:
            body += ETX
            body += b"%04X" % (sum(body) & 0xFFFF)
        return SYNC + SOH + f"{self.type_code}{address:02X}".encode() + body + EOT
