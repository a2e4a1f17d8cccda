"""The small MicroPython runtime shared by the hall's boards (rating button, LED call display).

Pure modules, run by the tests under the MicroPython WebAssembly port and CPython alike:
`ticks` (wrap-safe millisecond arithmetic), `backoff`, `conf` (defaults + a local settings module),
`flash` (power-cut-safe files), `ids` (message ids unique across reboots), `outbox` (the flash
queue of up messages resent until replied to) and `link` (the device side of the MQTT contract
over an injected umqtt-like client). `net` is the thin hardware part: Wi-Fi and umqtt.simple.
Nothing is imported here, so a board loads only the modules it uses.
"""
