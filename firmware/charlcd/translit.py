"""Vietnamese without diacritics for displays whose character ROM lacks them (HD44780 A00).

"MẤT KẾT NỐI" -> "MAT KET NOI": decompose (NFD), drop the combining marks, and map the two
letters that are not a base letter plus marks (Đ, đ). What is still not ASCII becomes "?".
"""

from __future__ import annotations

import unicodedata

_SPECIAL = {"Đ": "D", "đ": "d", "–": "-", "—": "-", "…": "...", "·": ".", "→": ">", "←": "<"}
# the HD44780 A00 ROM shows a yen sign for "\" and arrows for "~" and DEL
_ROM_UNSAFE = {"\\": "/", "~": "-"}


def to_ascii(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            continue
        ch = _SPECIAL.get(ch, ch)
        ch = _ROM_UNSAFE.get(ch, ch)
        if len(ch) == 1 and not 32 <= ord(ch) < 127:
            ch = " " if ch.isspace() else "?"
        out.append(ch)
    return "".join(out)
