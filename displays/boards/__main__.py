"""`python -m displays.boards`: check frames, test a board, or run the display controller.

    python -m displays.boards frame --driver sevenseg --address 3 B001      # the bytes, in hex
    python -m displays.boards send --port /dev/ttyUSB0 --driver alpha --address 3 B001
    python -m displays.boards controller --mqtt-url mqtt://demo.boards-1:SECRET@hall-server:1883 --hall demo \\
        --port /dev/ttyUSB0 --driver sevenseg --counters 1-37        # or --config boards.toml
    python -m displays.boards controller --mqtt-url mqtt://:SECRET@hall-server:1883 --hall demo \\
        --device boards-1 --config /etc/hall/hall.toml   # login demo.boards-1; its declared counters
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import sys
import threading
import tomllib
from dataclasses import replace
from pathlib import Path

from displays.boards.config import DRIVERS, BoardsConfig, device_signs, parse_counters
from displays.boards.controller import DEVICE


def _config(args: argparse.Namespace) -> BoardsConfig:
    raw, hall = {}, {}
    if args.config:
        with open(args.config, "rb") as f:
            hall = tomllib.load(f)
        raw = hall.get("boards", {})
    if args.driver and args.driver != raw.get("driver", "sevenseg"):
        raw = {k: v for k, v in raw.items() if k not in DRIVERS} | {"driver": args.driver}
    if args.port:
        raw["port"] = args.port
    if args.baudrate:
        raw["baudrate"] = args.baudrate
    cfg = BoardsConfig.from_dict(raw)
    if getattr(args, "counters", None):
        cfg = replace(cfg, signs=tuple(parse_counters(args.counters)))
    elif not cfg.signs and getattr(args, "device", None):  # the hall's own file: the device's counters
        cfg = replace(cfg, signs=tuple(device_signs(hall, args.device)))
    return cfg


def cmd_frame(args: argparse.Namespace) -> int:
    frame = _config(args).make_driver(io.BytesIO()).frame(args.address, args.text, args.blink)
    print(frame.hex(" "))
    print(repr(frame))
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    cfg = _config(args)
    with cfg.line.open() as port:
        frame = cfg.make_driver(port).show(args.address, args.text, args.blink)
    print(f"sent to {cfg.line.port}: {frame.hex(' ')}")
    return 0


def cmd_controller(args: argparse.Namespace) -> int:
    from displays.boards.controller import BoardController

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = _config(args)
    if not cfg.signs:
        sys.exit(f"no boards: give --counters 1-37, [[boards.signs]] in --config, or the hall's configuration "
                 f"declaring {args.device} (kind boards, counters = [...]) as --config")
    port = cfg.line.open()
    controller = BoardController(args.mqtt_url, args.hall, cfg.make_driver(port), list(cfg.signs), cfg.dashes,
                                 cfg.blink_s, client_id=args.client_id, device=args.device,
                                 on_shown=lambda s, text, _: logging.info("counter %s (address %s): %r",
                                                                          s.counter, s.address, text))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    controller.start(timeout=30)
    logging.info("driving %d boards on %s for hall %s", len(cfg.signs), cfg.line.port, args.hall)
    stop.wait()
    controller.close()
    port.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m displays.boards", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file with a [boards] table")
    common.add_argument("--driver", choices=DRIVERS)
    common.add_argument("--port", help="serial port, e.g. /dev/ttyUSB0")
    common.add_argument("--baudrate", type=int)
    one = argparse.ArgumentParser(add_help=False)
    one.add_argument("--address", type=int, required=True)
    one.add_argument("--blink", action="store_true")
    one.add_argument("text")

    sub.add_parser("frame", parents=[common, one], help="print the frame's bytes").set_defaults(func=cmd_frame)
    sub.add_parser("send", parents=[common, one], help="write one frame to the port").set_defaults(func=cmd_send)
    c = sub.add_parser("controller", parents=[common], help="drive the boards from the counters' LED states")
    c.add_argument("--mqtt-url", default=os.environ.get("HALL_MQTT_URL", "mqtt://127.0.0.1:1883"))
    c.add_argument("--hall", required=True)
    c.add_argument("--counters", help="boards at address = counter number, e.g. 1-37 or 1-5,7")
    c.add_argument("--device", default=DEVICE,
                   help=f"its device id in the hall configuration (default {DEVICE}); login {{hall}}.{{device}} "
                        "unless the URL names a user")
    c.add_argument("--client-id")
    c.set_defaults(func=cmd_controller)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
