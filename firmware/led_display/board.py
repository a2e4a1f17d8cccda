"""The LED call display's hardware on an ESP32 DevKit: MAX7219 on the VSPI bus, the status LED."""

import max7219
from machine import SPI, Pin


class Board:
    def __init__(self, cfg):
        spi = SPI(cfg["spi_id"], baudrate=cfg["spi_baudrate"], polarity=0, phase=0,
                  sck=Pin(cfg["pin_sck"]), mosi=Pin(cfg["pin_mosi"]))
        cs = Pin(cfg["pin_cs"], Pin.OUT, value=1)
        self.display = make_display(cfg, spi, cs)
        self.width = self.display.width
        status = cfg["status_led_pin"]
        self.status = None if status is None else Pin(status, Pin.OUT, value=0)
        self._last = None

    def show(self, text, mark, online):
        frame = (text, mark)
        if frame != self._last:  # the SPI bus only hears about changes
            self.display.show(text, mark)
            self._last = frame
        if self.status is not None:
            self.status.value(1 if online else 0)

    def off(self):
        self.display.show(" " * self.width, False)
        self._last = None
        if self.status is not None:
            self.status.value(0)


def make_display(cfg, spi, cs):
    """The configured max7219.Display: "matrix" (8x8 modules) or "7seg"."""
    if cfg["display"] == "matrix":
        chain = max7219.Chain(spi, cs, cfg["modules"])
        return max7219.Matrix(chain, cfg["brightness"], cfg["matrix_reverse"], cfg["matrix_mirror"])
    chain = max7219.Chain(spi, cs, 1)
    return max7219.SevenSegment(chain, cfg["digits"], cfg["brightness"], cfg["digit0_right"])
