"""Serial LED boards (RS-232/RS-485) that many halls already own, driven from the counters' states.

`BoardDriver` is the interface (show a text at a bus address); `AlphaSign` speaks the Alpha Sign
Communications Protocol, `SevenSegment` a configurable ASCII framing for 7-segment counter boards;
`BoardController` (in `displays.boards.controller`, it needs paho) is the Pi agent that subscribes
to the LED states and drives the boards. `python -m displays.boards --help` for installers.
"""

from displays.boards.alpha import AlphaSign
from displays.boards.base import BoardDriver, ascii_text
from displays.boards.sevenseg import Framing, SevenSegment

__all__ = ["AlphaSign", "BoardDriver", "Framing", "SevenSegment", "ascii_text"]
