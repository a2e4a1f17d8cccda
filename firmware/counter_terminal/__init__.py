"""The counter terminal (Raspberry Pi): an officer's keypad and LCD at one counter.

Pure parts (key map and menu, screen composition) apart from the hardware (gpiozero keypad, evdev
or stdin keypad, HD44780 over I2C or the console), so tests and simulators build a
`CounterTerminal` with mock pins, a fake I2C bus or an in-memory display.
"""

from firmware.counter_terminal.menu import Action, Menu
from firmware.counter_terminal.terminal import CounterTerminal

__all__ = ["Action", "CounterTerminal", "Menu"]
