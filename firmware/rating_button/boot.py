"""Runs first at every reset; kept minimal: main.py does the work."""

import gc

try:
    import esp

    esp.osdebug(None)  # no ROM debug chatter on the serial console
except ImportError:
    pass
gc.collect()
