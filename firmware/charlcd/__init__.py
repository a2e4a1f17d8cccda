"""Character displays of the Raspberry Pi agents: an HD44780 LCD on an I2C backpack (PCF8574),
a console fallback, and the transliteration that keeps Vietnamese readable on a ROM without
diacritics. The I2C bus is an interface, so tests and simulators run the real driver on a fake
that emulates the controller."""

from firmware.charlcd.display import ConsoleDisplay, LcdDisplay, MemoryDisplay, TextDisplay, fit
from firmware.charlcd.hd44780 import HD44780, FakeI2C, I2CBus, SMBusI2C
from firmware.charlcd.translit import to_ascii

__all__ = ["HD44780", "ConsoleDisplay", "FakeI2C", "I2CBus", "LcdDisplay", "MemoryDisplay", "SMBusI2C",
           "TextDisplay", "fit", "to_ascii"]
