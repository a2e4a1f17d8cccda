"""Copy to the board as `settings.py` and fill in: one file per board (see firmware/README.md)."""

SETTINGS = {
    "hall": "demo",
    "device": "led-05",
    "wifi_ssid": "TTHCC-IOT",
    "wifi_password": "change-me",
    "mqtt_host": "192.168.1.10",
    "mqtt_password": "change-me",
    # TLS to the broker (firmware/README.md): True once the hall CA is on the board as ca.der; the
    # port is then 8883 (mqtt_port overrides it) and mqtt_host must be a name the broker's certificate lists
    "mqtt_tls": False,
    "mqtt_ca": "ca.der",
    "watchdog_s": 60,
    # an 8x32 dot matrix instead of the 4-digit 7-segment module:
    # "display": "matrix", "modules": 4, "brightness": 3,
}
