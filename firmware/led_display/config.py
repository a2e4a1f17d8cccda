"""LED call display configuration: the defaults below, overridden on each board by `settings.py`.

`settings.py` (written by the installer, not kept in the repository; see settings_example.py):
    SETTINGS = {"device": "led-05", "wifi_ssid": "TTHCC", "wifi_password": "...", "mqtt_host": "10.0.0.2"}
"""

from mpyrt import conf

DEFAULTS = conf.defaults({
    # the display: "7seg" (one MAX7219, 4 or 8 digits) or "matrix" (8x8 modules, one per character)
    "display": "7seg",
    "digits": 4,
    "digit0_right": True,
    "modules": 4,
    "matrix_reverse": False,
    "matrix_mirror": False,
    "brightness": 8,  # 0..15
    # wiring on an ESP32 DevKit (firmware/README.md): VSPI
    "spi_id": 2,
    "spi_baudrate": 5000000,
    "pin_sck": 18,
    "pin_mosi": 23,
    "pin_cs": 5,
    "status_led_pin": 2,  # the DevKit's blue LED, lit while online; None for none
    # behaviour
    "blink_s": 5,
    "loop_ms": 20,
    "watchdog_s": 0,  # 0: off; 60 in production (see firmware/README.md)
})


REQUIRED = ("device", "wifi_ssid", "mqtt_host")


def load():
    return conf.merge(DEFAULTS)
