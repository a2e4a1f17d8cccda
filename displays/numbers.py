"""Vietnamese reading of numbers and ticket numbers, as a hall announces them. Pure functions.

Why a function of our own: espeak-ng reads "A023" as "a không hai mươi ba" and knows no ticket
conventions, and recorded voice segments need the exact words. The rules (standard Vietnamese):

- 0..9: không một hai ba bốn năm sáu bảy tám chín.
- tens: 10 "mười", 20..90 "<digit> mươi"; a unit 1 after "mươi" is "mốt" (21 "hai mươi mốt", but
  11 "mười một"), a unit 5 after "mười"/"mươi" is "lăm" (15 "mười lăm", 25 "hai mươi lăm"), a unit 4
  after "mươi" is "tư" (24 "hai mươi tư"; `Style.four="bốn"` for halls that say "bốn"; 14 is always
  "mười bốn").
- a zero tens digit inside a hundred group is "linh" (or "lẻ", `Style.linh`): 104 "một trăm linh
  tư", 105 "một trăm linh năm", 101 "một trăm linh một"; "tư" here follows `Style.four` too.
- groups of three digits: "nghìn" (or "ngàn"), "triệu", "tỷ"; a group after the first is read in
  full, so an empty hundreds digit is "không trăm" (1023 "một nghìn không trăm hai mươi ba", 1005
  "một nghìn không trăm linh năm"); an all-zero group is not read (1000000 "một triệu", 1000005
  "một triệu không trăm linh năm"). Beyond "tỷ" the words repeat ("một nghìn tỷ").

Letters (ticket prefixes) are read the way Vietnamese speakers spell them aloud; see LETTERS.
All output is NFC.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# How letters of ticket prefixes are said: the school names of Vietnamese letters for the letters of
# the Vietnamese alphabet (a, bê, xê, dê, đê, e, giê, hát, i, ca, ...), and for consonant letters the
# names people use when spelling aloud ("e-lờ", "em-mờ", "en-nờ", "e-rờ", "ét-xì", "ích-xì"), which are
# clearer over a hall's loudspeakers than the school forms "lờ", "mờ", "nờ". Y is "i dài" (long i),
# the name that keeps it apart from I "i" (also "i ngắn"); F, J, W and Z are foreign letters: "ép",
# "gi", "vê kép" (double v), "dét".
LETTERS: dict[str, str] = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "Ê": "ê",
    "F": "ép", "G": "giê", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "e-lờ", "M": "em-mờ",
    "N": "en-nờ", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "quy", "R": "e-rờ", "S": "ét-xì",
    "T": "tê", "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép", "X": "ích-xì", "Y": "i dài", "Z": "dét",
}
LETTERS = {unicodedata.normalize("NFC", k): unicodedata.normalize("NFC", v) for k, v in LETTERS.items()}


@dataclass(frozen=True)
class Style:
    """Regional and hall choices; the defaults are the standard (northern, written) forms."""

    four: str = "tư"        # 4 after "mươi" and after "linh": "tư" or "bốn"
    linh: str = "linh"      # zero tens digit inside a group: "linh" or "lẻ"
    thousand: str = "nghìn"  # or "ngàn" (southern)
    billion: str = "tỷ"     # or "tỉ"


STANDARD = Style()
_GROUPS = ("", "thousand", "triệu")  # powers of 1000 below a billion


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _tens_units(t: int, u: int, style: Style, after_hundreds: bool) -> list[str]:
    """Words of the last two digits of a group; `after_hundreds`: something was said before them."""
    if t == 0:
        if u == 0:
            return []
        if not after_hundreds:
            return [DIGITS[u]]
        return [style.linh, style.four if u == 4 else DIGITS[u]]
    words = ["mười"] if t == 1 else [DIGITS[t], "mươi"]
    if u == 1 and t >= 2:
        words.append("mốt")
    elif u == 4 and t >= 2:
        words.append(style.four)
    elif u == 5:
        words.append("lăm")
    elif u:
        words.append(DIGITS[u])
    return words


def _group(n: int, style: Style, full: bool) -> list[str]:
    """Words of 0 < n < 1000; `full`: not the leading group, so the hundreds are always said."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if h or full:
        words += [DIGITS[h], "trăm"]
    return words + _tens_units(t, u, style, after_hundreds=bool(words))


def _words(n: int, style: Style) -> list[str]:
    if n >= 1_000_000_000:
        high, rest = divmod(n, 1_000_000_000)
        words = _words(high, style) + [style.billion]
        return words + (_below_billion(rest, style, full=True) if rest else [])
    return _below_billion(n, style, full=False)


def _below_billion(n: int, style: Style, full: bool) -> list[str]:
    words: list[str] = []
    for power in (2, 1, 0):
        g = n // 1000**power % 1000
        if g == 0:
            continue  # an all-zero group is not read: 1000000 is "một triệu"
        words += _group(g, style, full=full or bool(words))
        name = _GROUPS[power]
        if name:
            words.append(style.thousand if name == "thousand" else name)
    return words


def read_number(n: int, style: Style = STANDARD) -> str:
    """`n` (>= 0) in words: 1023 -> "một nghìn không trăm hai mươi ba"."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"a whole number >= 0 is needed, got {n!r}")
    return _nfc(" ".join(_words(n, style)) if n else DIGITS[0])


def read_digits(digits: str | int, sep: str = ", ") -> str:
    """Digit by digit, as some halls read numbers: "1023" -> "một, không, hai, ba"."""
    text = str(digits)
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"only digits can be read digit by digit, got {digits!r}")
    return _nfc(sep.join(DIGITS[int(d)] for d in text))


def read_letter(letter: str) -> str:
    """The spoken name of one letter: "B" -> "bê"."""
    try:
        return LETTERS[_nfc(letter).upper()]
    except KeyError:
        raise ValueError(f"no spoken name for {letter!r}") from None


_RUNS = re.compile(r"[0-9]+|[^0-9]")


def read_ticket(number: str, digits: bool = False, style: Style = STANDARD, sep: str = " ",
                digit_sep: str = " ") -> str:
    """A ticket number: letters by name, each run of digits as a number ("A023" -> "a hai mươi ba",
    leading zeros are not read) or, with `digits`, digit by digit ("a không hai ba")."""
    text = _nfc(number.strip())
    if not text:
        raise ValueError("empty ticket number")
    parts = []
    for run in _RUNS.findall(text):
        if run.isdigit():
            parts.append(read_digits(run, digit_sep) if digits else read_number(int(run), style))
        else:
            parts.append(read_letter(run))
    return _nfc(sep.join(parts))
