"""Rating button: wires the pins, the flash vote queue, the link and the logic, then loops.

Stop it from a computer with Ctrl-C (mpremote does this); it says offline before it stops.
"""

import gc
import time

import config
import rating
from mpyrt import conf
from mpyrt.backoff import Backoff
from mpyrt.ids import Ids
from mpyrt.link import Link
from mpyrt.outbox import Outbox


def run():
    cfg = conf.require(config.load(), config.REQUIRED)
    gc.collect()
    import board
    from mpyrt import net

    hw = board.Board(cfg)
    outbox = Outbox(cfg["queue_file"], cfg["queue_limit"])
    app = rating.RatingButton(outbox, Ids(cfg["boot_file"], net.salt()), len(cfg["level_pins"]),
                              len(cfg["reason_pins"]), cfg["reason_level"], cfg["reason_s"] * 1000,
                              cfg["thanks_s"] * 1000, cfg["debounce_ms"])
    link = Link(cfg["hall"], cfg["device"], net.client_factory(cfg), net.wifi(cfg), rating.VERSION,
                cfg["keepalive_s"], Backoff(1000, 60000, net.jitter), True, outbox=outbox, log=print)
    link.on_state = app.on_state
    link.on_reply = app.on_reply
    link.on_change = app.on_link
    print("rating button %s (%s), %d votes queued" % (cfg["device"], rating.VERSION, len(outbox)))
    gc.collect()
    wdt = None
    if cfg["watchdog_s"]:
        import machine

        wdt = machine.WDT(timeout=cfg["watchdog_s"] * 1000)
    try:
        while True:
            now = time.ticks_ms()
            app.sample(hw.pressed(), now, hw.edges())
            link.step(now)  # may block for a few seconds while connecting
            now = time.ticks_ms()
            app.tick(now)
            levels, reasons = app.leds(now)
            hw.show(levels, reasons, app.status_led(now))
            if wdt is not None:
                wdt.feed()
            time.sleep_ms(cfg["loop_ms"])
    except KeyboardInterrupt:
        link.close()
        hw.off()


run()
