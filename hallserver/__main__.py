"""`python -m hallserver`: run the hall server alone, configured by the environment.

`python -m hallserver hash-pin 1234` prints a PIN hash for a HALL_CONFIG file.
`python -m hallserver create-admin NAME` creates the first admin (the password is asked, never a default).
`python -m hallserver provision add|revoke|replace|list|export` manages the devices' MQTT logins.
"""

from __future__ import annotations

import argparse
import os
import sys

from broker.client import MqttUrl
from hallserver import provisioning
from hallserver.bootstrap import Runtime
from hallserver.domain.pins import hash_pin
from hallserver.metrics import configure_logging
from hallserver.province import load_province
from hallserver.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hallserver", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    pin = sub.add_parser("hash-pin", help="print the hash of an officer's PIN for the configuration file")
    pin.add_argument("pin")
    admin = sub.add_parser("create-admin", help="create an administrator of the pages (the first one, or another)")
    admin.add_argument("username")
    admin.add_argument("--name", default=None, help="full name shown on the pages")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    provisioning.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "provision":
        return provisioning.run(args)
    if args.command == "create-admin":
        return create_admin(args.username, args.name, args.password_stdin)
    if args.command == "hash-pin":
        if not (args.pin.isdigit() and 4 <= len(args.pin) <= 8):
            parser.error("a PIN is 4 to 8 digits")
        print(hash_pin(args.pin))
        return 0
    configure_logging(os.environ.get("HALL_LOG_FORMAT"))  # "json": one JSON object per line
    settings = Settings.from_env()
    province = load_province(settings.config_path)  # one hall, or every hall of a province file
    configs = [h.config for h in province.halls]
    broker = None
    if settings.mqtt_url is None and not all(c.demo for c in configs):  # no anonymous devices outside the demo
        broker, settings = provisioning.start_embedded(settings, configs)
    runtime = Runtime(settings, province.halls[0].config if province.single else None).start()
    try:
        sock = runtime.bind_http()
        port = sock.getsockname()[1]
        mqtt = MqttUrl.parse(runtime.mqtt_url or "")  # printed without its password
        what = f"hall {runtime.config.id}" if province.single else f"province {province.id} ({len(configs)} halls)"
        # one write: print() writes the text and the newline apart, and a log line from another
        # thread may land between them (process supervisors and the tests read this line)
        sys.stdout.write(f"{what} ready: MQTT {mqtt}, http://{settings.http_host}:{port}/\n")
        sys.stdout.flush()
        runtime.serve_http(sock)
    finally:
        runtime.stop()
        if broker is not None:
            broker.stop()
    return 0


def create_admin(username: str, name: str | None, from_stdin: bool) -> int:
    """The first admin exists only through this command: there is no default account or password."""
    import getpass

    from hallserver.auth import check_password_rules, hash_password
    from hallserver.store import Store
    from hallserver.store.accounts import Accounts, DuplicateUser

    username = username.strip().lower()
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Mật khẩu cho {username} / password: ")
        if getpass.getpass("Nhập lại / again: ") != password:
            print("Hai mật khẩu không khớp / the passwords differ", file=sys.stderr)
            return 2
    problem = check_password_rules(password, username)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    settings = Settings.from_env()
    store = Store(settings.database_url)
    try:
        store.migrate()
        from datetime import UTC, datetime

        Accounts(store).create_user(username, name or username, "admin", hash_password(password), datetime.now(UTC))
    except DuplicateUser:
        print(f"Tên đăng nhập {username} đã có / username {username} exists", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"admin {username} created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
