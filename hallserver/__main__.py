"""`python -m hallserver`: run the hall server alone, configured by the environment.

`python -m hallserver hash-pin 1234` prints a PIN hash for a HALL_CONFIG file.
"""

from __future__ import annotations

import argparse
import logging
import sys

from hallserver.bootstrap import Runtime
from hallserver.domain.pins import hash_pin
from hallserver.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hallserver", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    pin = sub.add_parser("hash-pin", help="print the hash of an officer's PIN for the configuration file")
    pin.add_argument("pin")
    args = parser.parse_args(argv)
    if args.command == "hash-pin":
        if not (args.pin.isdigit() and 4 <= len(args.pin) <= 8):
            parser.error("a PIN is 4 to 8 digits")
        print(hash_pin(args.pin))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    runtime = Runtime(settings).start()
    try:
        sock = runtime.bind_http()
        port = sock.getsockname()[1]
        print(f"hall {runtime.config.id} ready: MQTT {runtime.mqtt_url}, http://{settings.http_host}:{port}/",
              flush=True)
        runtime.serve_http(sock)
    finally:
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
