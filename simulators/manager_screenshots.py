"""Screenshots of the manager pages for the README: the live dashboard during an accelerated
morning of the demo hall, and the monthly report of a generated month (October 2026, 26 working
days of about 500 tickets).

    .venv/bin/python -m simulators.manager_screenshots [--out docs] [--seconds 25]

Uses Debian's /usr/bin/chromium through Playwright (never a downloaded browser).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from datetime import date
from pathlib import Path

from hallserver.auth import hash_password
from hallserver.bootstrap import Runtime
from hallserver.settings import Settings, load_hall_config
from hallserver.store.accounts import Accounts
from simulators.day import HallDay
from simulators.history import working_days, write_days
from simulators.screenshots import ARGS, CHROMIUM

MONTH = date(2026, 10, 1)
PASSWORD = "screenshots only 1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--seconds", type=float, default=25.0)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    db = Path(tempfile.mkdtemp()) / "shots.db"
    settings = Settings(mqtt_url=None, database_url=f"sqlite:///{db}", config_path=None, http_port=0)
    runtime = Runtime(settings, load_hall_config(None, always_open=True)).start()
    write_days(runtime.store, runtime.config, runtime.service.tz, working_days(MONTH, 26), 500)
    Accounts(runtime.store).create_user("quanly", "Trần Thị Quản Lý", "manager", hash_password(PASSWORD),
                                        runtime.service.now())
    day = HallDay(runtime.mqtt_url, runtime.config, speed=120, seed=7, counters=30)
    try:
        port = runtime.start_http_thread()
        base = f"http://127.0.0.1:{port}"
        day.start()
        threading.Event().wait(args.seconds)  # let the simulated morning fill the queues
        day.kiosks[-1].link.publish_status(paper="near_end")  # what the dashboard warns about
        day.counters[-1][4].link.drop()  # an LED display loses power: its last will says offline
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(base + "/login")
            page.fill('input[name="username"]', "quanly")
            page.fill('input[name="password"]', PASSWORD)
            page.click('button[type="submit"]')
            page.wait_for_selector("#link.live")
            page.wait_for_selector(".ctr .ticket")
            page.evaluate("""fetch('/api/manage/counters/30/services', {method: 'POST', headers: {'Content-Type':
                'application/json', 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
                body: JSON.stringify({services: ['xuc-tien', 'cong-an']})})""")
            page.wait_for_selector('#alerts li[data-kind="paper"]')
            page.wait_for_selector("#audit tr")
            page.evaluate("document.fonts.ready")
            page.screenshot(path=str(args.out / "dashboard.png"), full_page=True)
            page.goto(f"{base}/reports/monthly?month={MONTH:%Y-%m}")
            page.evaluate("document.fonts.ready")
            page.screenshot(path=str(args.out / "monthly-report.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1440, "height": 2600})
            browser.close()
        print(f"wrote {args.out}/dashboard.png and {args.out}/monthly-report.png")
    finally:
        day.close()
        runtime.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
