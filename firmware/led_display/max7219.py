"""MAX7219 LED drivers on SPI: a 4- or 8-digit 7-segment module, or an 8x32 dot matrix (4 chips).

Hardware-facing but free of `machine`: it writes to any object with `write(bytes)` (a machine.SPI)
and a chip-select with `value(0|1)` (a machine.Pin), so the tests drive it with fakes and read the
bytes. Chips are chained: in one CS frame the first register pair shifted in ends up in the chip
furthest from DIN.
"""

_DECODE = 0x09
_INTENSITY = 0x0A
_SCAN = 0x0B
_SHUTDOWN = 0x0C
_TEST = 0x0F

# 7-segment patterns in the MAX7219's no-decode layout: bit 7 = DP, 6..0 = A B C D E F G.
# Letters are the usual approximations (b, d, n, o, r, t, u, y in lower case).
SEGMENTS = {
    " ": 0x00, "-": 0x01, "_": 0x08,
    "0": 0x7E, "1": 0x30, "2": 0x6D, "3": 0x79, "4": 0x33,
    "5": 0x5B, "6": 0x5F, "7": 0x70, "8": 0x7F, "9": 0x7B,
    "A": 0x77, "B": 0x1F, "C": 0x4E, "D": 0x3D, "E": 0x4F, "F": 0x47, "G": 0x5E, "H": 0x37,
    "I": 0x06, "J": 0x3C, "K": 0x57, "L": 0x0E, "M": 0x76, "N": 0x15, "O": 0x1D, "P": 0x67,
    "Q": 0x73, "R": 0x05, "S": 0x5B, "T": 0x0F, "U": 0x3E, "V": 0x1C, "W": 0x3F, "X": 0x37,
    "Y": 0x3B, "Z": 0x6D,
}
DP = 0x80


def seven_segment(text, mark=False):
    """Segment bytes for `text`, left to right; `mark` lights the last digit's decimal point."""
    codes = bytearray(len(text))
    for i in range(len(text)):
        codes[i] = SEGMENTS.get(text[i].upper(), 0x01)
    if mark and len(codes):
        codes[-1] |= DP
    return codes


class Chain:
    """`n` MAX7219 chips on one SPI bus and one CS (LOAD) line."""

    def __init__(self, spi, cs, n=1):
        self.spi = spi
        self.cs = cs
        self.n = n
        self.buf = bytearray(2 * n)
        cs.value(1)

    def write(self, regs, data):
        """Register regs[k] := data[k] in chip k (chip 0 is the one nearest DIN)."""
        buf = self.buf
        for k in range(self.n):
            pos = 2 * (self.n - 1 - k)
            buf[pos] = regs[k]
            buf[pos + 1] = data[k]
        self.cs.value(0)
        self.spi.write(buf)
        self.cs.value(1)

    def all(self, reg, value):
        self.write([reg] * self.n, [value] * self.n)

    def init(self, scan, brightness):
        for reg, value in ((_TEST, 0), (_SHUTDOWN, 0), (_DECODE, 0), (_SCAN, scan - 1),
                           (_INTENSITY, brightness & 15), (_SHUTDOWN, 1)):
            self.all(reg, value)
        for digit in range(1, 9):
            self.all(digit, 0)

    def brightness(self, level):
        self.all(_INTENSITY, level & 15)


class Display:
    """What the main loop needs from a display: `width` characters and `show(text, mark)`."""

    width = 0

    def show(self, text, mark=False):
        raise NotImplementedError


class SevenSegment(Display):
    """One chip, `digits` digits. `digit0_right`: DIG0 is the rightmost digit (the common 8-digit
    modules); False when DIG0 is the leftmost."""

    def __init__(self, chain, digits=4, brightness=8, digit0_right=True):
        self.chain = chain
        self.width = digits
        self.digit0_right = digit0_right
        chain.init(digits, brightness)

    def show(self, text, mark=False):
        codes = seven_segment(text[:self.width], mark)
        for i in range(len(codes)):
            digit = self.width - i if self.digit0_right else i + 1
            self.chain.all(digit, codes[i])


class Matrix(Display):
    """`chain.n` 8x8 modules side by side, one 8x8 character each (framebuf's font). The default
    suits the common FC-16 boards (DIN on the right): the leftmost module is the last chip.
    `reverse`: the leftmost module is chip 0; `mirror`: columns are wired the other way round."""

    def __init__(self, chain, brightness=4, reverse=False, mirror=False):
        import framebuf

        self.chain = chain
        self.width = chain.n
        self.reverse = reverse
        self.mirror = mirror
        self.buf = bytearray(8 * chain.n)
        self.fb = framebuf.FrameBuffer(self.buf, 8 * chain.n, 8, framebuf.MONO_HLSB)
        self._regs = [0] * chain.n
        self._row = [0] * chain.n
        chain.init(8, brightness)

    def show(self, text, mark=False):
        fb = self.fb
        fb.fill(0)
        fb.text(text[:self.width], 0, 0, 1)
        if mark:  # a bar under the last character, on the font's empty bottom row
            fb.hline(8 * self.width - 6, 7, 6, 1)
        n = self.chain.n
        for row in range(8):
            for module in range(n):
                byte = self.buf[row * n + module]
                if self.mirror:
                    byte = _reverse_bits(byte)
                chip = module if self.reverse else n - 1 - module
                self._regs[chip] = row + 1
                self._row[chip] = byte
            self.chain.write(self._regs, self._row)


def _reverse_bits(b):
    r = 0
    for _ in range(8):
        r = (r << 1) | (b & 1)
        b >>= 1
    return r
