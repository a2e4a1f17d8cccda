"""`make demo`: the embedded broker, the hall server with the built-in demo hall on
http://127.0.0.1:8000/, and simulated devices playing an accelerated day. Ctrl-C stops it all."""

from __future__ import annotations

import argparse
import logging
import secrets
import signal
import threading

from hallserver.auth import hash_password
from hallserver.bootstrap import Runtime
from hallserver.settings import Settings, load_hall_config
from simulators.day import HallDay

DEMO_MANAGER = "quanly"


def demo_manager(runtime: Runtime) -> str | None:
    """The demo hall's manager account, with a new random password at every start (printed); never
    for a real hall, whose first admin comes from `python -m hallserver create-admin`."""
    if not runtime.config.demo:
        return None
    from hallserver.store.accounts import Accounts

    accounts = Accounts(runtime.store)
    password = secrets.token_urlsafe(9)
    user = accounts.user_by_name(DEMO_MANAGER)
    if user is None:
        accounts.create_user(DEMO_MANAGER, "Quản lý (demo)", "manager", hash_password(password), runtime.service.now())
    else:
        accounts.update_user(user.id, password_hash=hash_password(password), active=True, role="manager")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.demo", description=__doc__)
    parser.add_argument("--speed", type=float, default=60.0, help="simulated minutes per real minute (60)")
    parser.add_argument("--counters", type=int, default=None, help="how many counters to staff (all)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this many real seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    settings = Settings.from_env()
    # the demo issues tickets at any hour, so it works on a Sunday evening too
    config = load_hall_config(settings.config_path, always_open=True,
                              public_url=f"http://{settings.http_host}:{settings.http_port}")
    runtime = Runtime(settings, config).start()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    day = None
    try:
        port = runtime.start_http_thread()
        password = demo_manager(runtime)
        manager = (f"  Dashboard:     http://{settings.http_host}:{port}/dashboard   sign in as {DEMO_MANAGER} / "
                   f"{password}  (a new random password at every start)\n") if password else ""
        print(f"\n  Hall overview: http://{settings.http_host}:{port}/\n{manager}  API docs:      "
              f"http://{settings.http_host}:{port}/docs\n  MQTT broker:   {runtime.mqtt_url}\n"
              f"  Officers' PIN: 0000   (Ctrl-C stops)\n", flush=True)
        day = HallDay(runtime.mqtt_url, config, speed=args.speed, counters=args.counters)
        day.start()
        stop.wait(args.seconds)
    finally:
        if day is not None:
            day.close()
            print(f"demo: {day.issued} tickets issued, {day.served} served", flush=True)
        runtime.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
