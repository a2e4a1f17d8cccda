"""Copy to the board as `settings.py` and fill in: one file per board (see firmware/README.md)."""

SETTINGS = {
    "hall": "demo",
    "device": "rb-05",
    "wifi_ssid": "TTHCC-IOT",
    "wifi_password": "change-me",
    "mqtt_host": "192.168.1.10",
    "mqtt_password": "change-me",
    # TLS to the broker (firmware/README.md): True once the hall CA is on the board as ca.der; the
    # port is then 8883 (mqtt_port overrides it) and mqtt_host must be a name the broker's certificate lists
    "mqtt_tls": False,
    "mqtt_ca": "ca.der",
    "watchdog_s": 60,
    # five levels: add the buttons and LEDs of the 4th and 5th level
    # "level_pins": [32, 33, 25, 26, 27],
    # "level_led_pins": [16, 17, 18, 19, 21],
}
