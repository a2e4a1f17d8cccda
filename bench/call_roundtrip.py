"""Round trip from `call.next` published by a counter terminal to the LED display's retained
`state` showing the new number, through a real Mosquitto and the real hall server.

    .venv/bin/python bench/call_roundtrip.py [--calls 200] [--mqtt-url mqtt://127.0.0.1:PORT]

Without --mqtt-url it starts a private Mosquitto on a free port (the `mosquitto` binary must be on
PATH). Prints p50, p90, p99 and max in milliseconds; a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broker.mosquitto import MosquittoProcess  # noqa: E402
from firmware.pilink import DeviceLink  # noqa: E402
from hallserver.bootstrap import Runtime  # noqa: E402
from hallserver.settings import Settings, load_hall_config  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--mqtt-url")
    args = parser.parse_args()
    broker = None
    url = args.mqtt_url
    if url is None:
        broker = MosquittoProcess(shutil.which("mosquitto") or "/usr/sbin/mosquitto")
        broker.start()
        url = broker.url
    db = Path(tempfile.mkdtemp()) / "bench.db"
    rt = Runtime(Settings(mqtt_url=url, database_url=f"sqlite:///{db}", config_path=None),
                 load_hall_config(None, id="bench", always_open=True)).start()
    kiosk = DeviceLink(url, "bench", "kiosk-1").start()
    terminal = DeviceLink(url, "bench", "ct-03").start()
    led = DeviceLink(url, "bench", "led-03").start()
    try:
        for _ in range(args.calls):
            kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
        terminal.request("officer.login", {"officer": "o03", "pin": "0000"})
        samples = []
        for i in range(1, args.calls + 1):
            number = f"B{i:03d}"
            start = time.perf_counter()
            terminal.send("call.next")
            led.wait_state(lambda s, n=number: s.get("number") == n, timeout=10)
            samples.append((time.perf_counter() - start) * 1000)
            terminal.request("serve.done")
        samples.sort()
        q = statistics.quantiles(samples, n=100)
        print(f"call.next -> LED state via {url} (Mosquitto{'' if broker else ' given'}), {len(samples)} calls:")
        print(f"  p50 {q[49]:.2f} ms   p90 {q[89]:.2f} ms   p99 {q[98]:.2f} ms   max {samples[-1]:.2f} ms")
    finally:
        for link in (kiosk, terminal, led):
            link.close()
        rt.stop()
        if broker is not None:
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
