"""Configuration: one dict of defaults per device, overridden by a small local settings module.

The board carries `settings.py` with `SETTINGS = {"device": "rb-05", "wifi_ssid": ..., ...}` (the
installer's file, not in the repository). A key the defaults do not know is a typo: refused loudly.
"""


# what every board needs to reach its hall (provisioned per board in settings.py)
LINK = {
    "hall": "demo",
    "device": "",  # the id in the hall configuration, e.g. "rb-05" or "led-05"
    "wifi_ssid": "",
    "wifi_password": "",
    "mqtt_host": "",  # the hall server's broker, e.g. "192.168.1.10"
    "mqtt_port": 0,  # 0: 1883, or 8883 with mqtt_tls
    "mqtt_tls": False,  # True: TLS, checking the broker's certificate against mqtt_ca and mqtt_host
    "mqtt_ca": "ca.der",  # the hall CA certificate on the board's flash (DER; PEM also read)
    "mqtt_user": "",  # "": the device's broker login, "{hall}.{device}"
    "mqtt_password": "",
    "keepalive_s": 30,
    "io_timeout_s": 5,
}


def defaults(own):
    """A device's defaults: LINK, then its own keys (MicroPython has no {**a, **b})."""
    out = {}
    for src in (LINK, own):
        for key in src:
            out[key] = src[key]
    return out


def merge(defaults, module="settings"):
    """A new dict: `defaults` updated with `module.SETTINGS` when that module exists."""
    cfg = {}
    for key in defaults:
        cfg[key] = defaults[key]
    try:
        mod = __import__(module)
    except ImportError as exc:
        if ("'%s'" % module) not in str(exc):
            raise  # the settings module exists but imports something missing
        return cfg
    over = getattr(mod, "SETTINGS", None)
    if not isinstance(over, dict):
        raise ValueError("%s.SETTINGS must be a dict" % module)
    unknown = [key for key in over if key not in defaults]
    if unknown:
        raise ValueError("%s: unknown keys %s" % (module, ", ".join(sorted(unknown))))
    for key in over:
        cfg[key] = over[key]
    return cfg


def require(cfg, keys):
    """Refuse to start with these keys still empty: a spare board without its settings.py must not
    pose as some other device."""
    empty = [key for key in keys if not cfg.get(key)]
    if empty:
        raise ValueError("settings.py must set %s" % ", ".join(empty))
    return cfg
