"""The MicroPython devices' pure logic also imports under CPython: the shared runtime (`mpyrt`)
and the device folders go on sys.path the way the board's /lib and root are (appended, so they
never shadow anything else)."""

import sys

from support.require import REPO_ROOT

for _path in (REPO_ROOT / "firmware", REPO_ROOT / "firmware" / "rating_button", REPO_ROOT / "firmware" / "led_display"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))
