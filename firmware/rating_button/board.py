"""The rating button's pins on an ESP32 DevKit: buttons to GND (pull-ups), LEDs through resistors.

Buttons are sampled by the main loop (rating.Debouncer); a falling-edge interrupt per button also
latches presses that happen while the loop is blocked in a connection attempt.
"""

import machine
from machine import Pin


class Board:
    def __init__(self, cfg):
        self.active_low = cfg["led_active_low"]
        self._edges = 0
        numbers = list(cfg["level_pins"]) + list(cfg["reason_pins"])
        self.buttons = [self._button(numbers[i], i) for i in range(len(numbers))]
        self.level_leds = [self._led(n) for n in cfg["level_led_pins"]]
        self.reason_leds = [self._led(n) for n in cfg["reason_led_pins"]]
        status = cfg["status_led_pin"]
        self.status = None if status is None else self._led(status)
        self._pressed = [False] * len(self.buttons)

    def _button(self, number, index):
        if number >= 34:  # GPIO 34-39 are inputs without internal pull-ups: wire 10 kΩ to 3V3
            pin = Pin(number, Pin.IN)
        else:
            pin = Pin(number, Pin.IN, Pin.PULL_UP)
        pin.irq(handler=self._latch(1 << index), trigger=Pin.IRQ_FALLING)
        return pin

    def _latch(self, bit):
        def handler(pin):
            self._edges |= bit

        return handler

    def _led(self, number):
        return Pin(number, Pin.OUT, value=1 if self.active_low else 0)

    def pressed(self):
        """One bool per button (levels, then reasons): True while held down."""
        for i in range(len(self.buttons)):
            self._pressed[i] = self.buttons[i].value() == 0
        return self._pressed

    def edges(self):
        """Buttons that saw a falling edge since the last call, as a bit mask; clears it."""
        irq = machine.disable_irq()
        edges = self._edges
        self._edges = 0
        machine.enable_irq(irq)
        return edges

    def _set(self, pins, values):
        for i in range(len(pins)):
            on = i < len(values) and values[i]
            pins[i].value(1 if on != self.active_low else 0)

    def show(self, levels, reasons, status):
        self._set(self.level_leds, levels)
        self._set(self.reason_leds, reasons)
        if self.status is not None:
            self._set([self.status], [status])

    def off(self):
        self.show([], [], False)
