"""Screenshots of the pages for the README: the demo hall after a short accelerated morning.

    .venv/bin/python -m simulators.screenshots [--out docs] [--seconds 20]

Uses Debian's /usr/bin/chromium through Playwright (never a downloaded browser).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path

from hallserver.bootstrap import Runtime
from hallserver.settings import Settings, load_hall_config
from simulators.day import HallDay

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    db = Path(tempfile.mkdtemp()) / "shots.db"
    settings = Settings(mqtt_url=None, database_url=f"sqlite:///{db}", config_path=None, http_port=0)
    runtime = Runtime(settings, load_hall_config(None, always_open=True)).start()
    day = HallDay(runtime.mqtt_url, runtime.config, speed=120, seed=7)
    try:
        port = runtime.start_http_thread()
        day.start()
        threading.Event().wait(args.seconds)  # let the simulated morning fill the queues
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#link.live")
            page.wait_for_selector("#recent li")
            page.screenshot(path=str(args.out / "overview.png"), full_page=True)
            page.set_viewport_size({"width": 1920, "height": 1080})
            page.goto(f"http://127.0.0.1:{port}/screen")
            page.wait_for_selector("#recent li")
            page.evaluate("document.fonts.ready")
            page.screenshot(path=str(args.out / "screen-1920x1080.png"))
            browser.close()
        print(f"wrote {args.out}/overview.png and {args.out}/screen-1920x1080.png")
    finally:
        day.close()
        runtime.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
