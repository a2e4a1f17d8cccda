"""The keys and where they come from: the 4x4 matrix keypad, a USB numeric keypad, a console.

Logical keys are the matrix keypad's legends: "0".."9", "A" NEXT, "B" RECALL, "C" DONE,
"D" NO-SHOW, "*" MENU/CANCEL, "#" OK.
"""

from __future__ import annotations

NEXT, RECALL, DONE, NO_SHOW, MENU, OK = "A", "B", "C", "D", "*", "#"
DIGITS = "0123456789"
KEYS = DIGITS + "ABCD*#"

# the common membrane keypad, rows top to bottom, columns left to right
MATRIX_4X4 = (
    ("1", "2", "3", "A"),
    ("4", "5", "6", "B"),
    ("7", "8", "9", "C"),
    ("*", "0", "#", "D"),
)

# USB numeric keypad (evdev key names): + next, - recall, / done, . no-show, * menu, Enter OK
EVDEV_KEYS = {
    **{f"KEY_KP{d}": d for d in DIGITS}, **{f"KEY_{d}": d for d in DIGITS},
    "KEY_KPPLUS": NEXT, "KEY_KPMINUS": RECALL, "KEY_KPSLASH": DONE, "KEY_KPDOT": NO_SHOW,
    "KEY_KPASTERISK": MENU, "KEY_BACKSPACE": MENU, "KEY_ESC": MENU, "KEY_KPENTER": OK, "KEY_ENTER": OK,
}

# a console (stdin): the legends themselves, any case, and the numeric keypad's symbols
CONSOLE_KEYS = {**{k: k for k in KEYS}, **{k.lower(): k for k in "ABCD"},
                "+": NEXT, "-": RECALL, "/": DONE, ".": NO_SHOW}
