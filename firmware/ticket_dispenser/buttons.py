"""One GPIO push button per service (and optionally its lamp), wired to a Dispenser."""

from __future__ import annotations

from dataclasses import dataclass

from firmware.ticket_dispenser.dispenser import Dispenser


@dataclass(frozen=True)
class ButtonSpec:
    service: str
    gpio: int | str
    priority: str | None = None  # a button for one priority category (e.g. "nguoi-cao-tuoi")
    led: int | str | None = None  # lit while the service can be issued


class ServiceButtons:
    """Buttons to ground with the internal pull-up; gpiozero debounces (bounce_time), and the
    dispenser ignores presses while a ticket is under way, so a double press prints one ticket."""

    def __init__(self, specs: list[ButtonSpec], dispenser: Dispenser, pin_factory=None, bounce_s: float = 0.05):
        from gpiozero import LED, Button

        self.dispenser = dispenser
        self.buttons: dict[str, Button] = {}
        self.leds: dict[str, LED] = {}
        for spec in specs:
            button = Button(spec.gpio, pull_up=True, bounce_time=bounce_s, pin_factory=pin_factory)
            button.when_pressed = lambda s=spec: dispenser.press(s.service, s.priority)
            self.buttons[spec.service if spec.priority is None else f"{spec.service}+{spec.priority}"] = button
            if spec.led is not None:
                self.leds[spec.service] = LED(spec.led, pin_factory=pin_factory)
        dispenser.on_change = self.refresh
        self.refresh()

    def refresh(self) -> None:
        """Lamps on while a ticket can be printed (paper in, and online or offline numbers left)."""
        state = self.dispenser.link.state or {}
        closed = {s["code"] for s in state.get("services", []) if not s.get("open", True)}
        for service, led in self.leds.items():
            ok = self.dispenser.status.refusal is None and service not in closed and (
                self.dispenser.link.available or self.dispenser.offline_left(service) > 0)
            led.value = ok

    def close(self) -> None:
        for dev in (*self.buttons.values(), *self.leds.values()):
            dev.close()
