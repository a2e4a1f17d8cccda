"""LED call display: wires the MAX7219 display, the link and the view, then loops.

Stop it from a computer with Ctrl-C (mpremote does this); it says offline before it stops.
"""

import gc
import time

import config
import ledview
from mpyrt import conf
from mpyrt.backoff import Backoff
from mpyrt.link import Link


def run():
    cfg = conf.require(config.load(), config.REQUIRED)
    gc.collect()
    import board
    from mpyrt import net

    hw = board.Board(cfg)
    view = ledview.LedView(hw.width, cfg["blink_s"] * 1000)
    link = Link(cfg["hall"], cfg["device"], net.client_factory(cfg), net.wifi(cfg), ledview.VERSION,
                cfg["keepalive_s"], Backoff(1000, 60000, net.jitter), True, log=print)
    link.on_state = view.on_state
    link.on_change = view.on_link
    print("LED display %s (%s), %d characters" % (cfg["device"], ledview.VERSION, hw.width))
    gc.collect()
    wdt = None
    if cfg["watchdog_s"]:
        import machine

        wdt = machine.WDT(timeout=cfg["watchdog_s"] * 1000)
    try:
        while True:
            link.step(time.ticks_ms())  # may block for a few seconds while connecting
            now = time.ticks_ms()
            text, mark = view.frame(now)
            hw.show(text, mark, view.link_ok)
            if wdt is not None:
                wdt.feed()
            time.sleep_ms(cfg["loop_ms"])
    except KeyboardInterrupt:
        link.close()
        hw.off()


run()
