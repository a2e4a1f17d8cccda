"""Rating button configuration: the defaults below, overridden on each board by `settings.py`.

`settings.py` (written by the installer, not kept in the repository; see settings_example.py):
    SETTINGS = {"device": "rb-05", "wifi_ssid": "TTHCC", "wifi_password": "...", "mqtt_host": "10.0.0.2"}
"""

from mpyrt import conf

DEFAULTS = conf.defaults({
    # wiring on an ESP32 DevKit (firmware/README.md): one button and one LED per level, best level
    # first as the hall lists them; reason buttons and LEDs likewise; GPIO 34-39 need external pull-ups
    "level_pins": [32, 33, 25],
    "level_led_pins": [16, 17, 18],
    "reason_pins": [34, 35, 36, 39],
    "reason_led_pins": [22, 23, 13, 14],
    "status_led_pin": 2,  # the DevKit's blue LED; None for none
    "led_active_low": False,
    # behaviour
    "reason_level": "khong-hai-long",
    "reason_s": 10,
    "thanks_s": 3,
    "debounce_ms": 30,
    "loop_ms": 10,
    "queue_file": "votes.json",
    "queue_limit": 32,
    "boot_file": "boot.count",
    "watchdog_s": 0,  # 0: off; 60 in production (see firmware/README.md)
})


REQUIRED = ("device", "wifi_ssid", "mqtt_host")


def load():
    return conf.merge(DEFAULTS)
