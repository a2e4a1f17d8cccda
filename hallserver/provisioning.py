"""Device credentials: register, revoke and replace MQTT logins; write the broker's files.

The hall configuration (TOML) declares which devices exist; this module keeps their logins in
a credentials file (JSON, mode 0600) next to it: one record per login with the Mosquitto `$7$`
hash of its password, never the password. `export` turns the active records into Mosquitto's
password_file and acl_file; the embedded broker reads the same hashes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from broker.acl import SERVER_KIND, Account, acl_text, amqtt_acls, password_file_text
from broker.passwords import hash_password, new_password
from hallserver.domain.config import HallConfig

if TYPE_CHECKING:
    from broker import EmbeddedBroker
    from hallserver.settings import Settings

__all__ = ["Credentials", "ProvisionError", "Record", "add_parser", "credentials_path", "run", "start_embedded"]

SERVER_USERNAME = "hallserver"
log = logging.getLogger("hallserver.provisioning")


class ProvisionError(Exception):
    """A refused provisioning step, with a message for the installer."""


@dataclass
class Record:
    username: str
    hall: str
    kind: str
    password_hash: str
    device: str | None = None
    counter: int | None = None
    created_at: str = ""
    changed_at: str = ""
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def account(self) -> Account:
        return Account(self.username, self.hall, self.kind, self.password_hash, self.device)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def credentials_path(config_path: Path | None, env: dict[str, str] | None = None) -> Path:
    """HALL_CREDENTIALS, else `<config>.credentials.json` beside HALL_CONFIG, else var/credentials.json."""
    env = dict(os.environ if env is None else env)
    if env.get("HALL_CREDENTIALS"):
        return Path(env["HALL_CREDENTIALS"])
    if config_path is not None:
        return config_path.with_name(config_path.stem + ".credentials.json")
    return Path("var") / "credentials.json"


def _write_atomic(path: Path, text: str, mode: int, group: str | None = None) -> None:
    """Write a sibling temp file and rename it over `path`: readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        if group is not None and os.geteuid() == 0:
            import grp

            try:  # Mosquitto started as root reads its files as the `mosquitto` user
                os.chown(tmp, 0, grp.getgrnam(group).gr_gid)
            except KeyError:
                pass
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Credentials:
    """The credentials file: load, change, save (whole file, atomically)."""

    def __init__(self, path: Path):
        self.path = path
        self.records: list[Record] = []
        if path.exists():
            raw = json.loads(path.read_text(encoding="utf-8"))
            self.records = [Record(**r) for r in raw.get("accounts", [])]

    def save(self) -> None:
        body = {"v": 1, "accounts": [asdict(r) for r in self.records]}
        _write_atomic(self.path, json.dumps(body, ensure_ascii=False, indent=1) + "\n", 0o600)

    def find(self, username: str) -> Record | None:
        return next((r for r in self.records if r.username == username), None)

    def active(self) -> Iterator[Record]:
        return (r for r in self.records if r.active)

    def accounts(self) -> list[Account]:
        return [r.account() for r in self.active()]

    # -- operations ------------------------------------------------------------------------
    def add(self, config: HallConfig, device: str, kind: str | None = None, counter: int | None = None,
            hall: str | None = None, password: str | None = None) -> str:
        """Register a login for a device declared in `config` (or the server); return its password."""
        hall = hall or config.id
        if hall != config.id:
            raise ProvisionError(f"hall {hall!r} is not the configured hall {config.id!r} (set HALL_CONFIG)")
        if kind == SERVER_KIND:
            counter = None
        else:
            declared = config.devices.get(device)
            if declared is None:
                raise ProvisionError(f"device {device!r} is not declared in the hall configuration; add it there first")
            if kind not in (None, declared.kind) or (counter is not None and counter != declared.counter):
                raise ProvisionError(f"device {device!r} is declared as {declared.kind}"
                                     f"{'' if declared.counter is None else f' at counter {declared.counter}'}")
            kind, counter = declared.kind, declared.counter
        old = self.find(device)
        if old is not None and old.active:
            raise ProvisionError(f"{device!r} already has credentials; use `replace` for a new password")
        password = password or new_password()
        now = _now()
        record = Record(device, hall, kind, hash_password(password), None if kind == SERVER_KIND else device,
                        counter, now, now)
        record.account()  # validates the names
        if old is not None:
            self.records.remove(old)
        self.records.append(record)
        return password

    def revoke(self, username: str) -> Record:
        record = self._active(username)
        record.revoked_at = record.changed_at = _now()
        return record

    def replace(self, username: str, password: str | None = None) -> str:
        """A new password for an active login; the old one stops working at the next export."""
        record = self._active(username)
        password = password or new_password()
        record.password_hash, record.changed_at = hash_password(password), _now()
        return password

    def export(self, directory: Path, group: str | None = "mosquitto") -> tuple[Path, Path]:
        """Write `passwd` and `acl` for Mosquitto into `directory` (0640, group `group` when root)."""
        accounts = self.accounts()
        passwd, acl = directory / "passwd", directory / "acl"
        _write_atomic(passwd, password_file_text(accounts), 0o640, group)
        _write_atomic(acl, acl_text(accounts), 0o640, group)
        return passwd, acl

    def embedded_files(self, directory: Path, hall: str, server_password: str) -> tuple[Path, tuple[dict, dict]]:
        """The embedded broker's password file (devices + a one-off server login) and its ACLs."""
        halls = {r.hall for r in self.active()} | {hall}
        extra = [Account(SERVER_USERNAME, h, SERVER_KIND, hash_password(server_password)) for h in sorted(halls)]
        accounts = [a for a in self.accounts() if a.username != SERVER_USERNAME] + extra
        passwd = directory / "passwd"
        _write_atomic(passwd, password_file_text(accounts), 0o600)
        return passwd, amqtt_acls(accounts)

    def _active(self, username: str) -> Record:
        record = self.find(username)
        if record is None or not record.active:
            raise ProvisionError(f"{username!r} has no active credentials")
        return record


# -- command line ----------------------------------------------------------------------------
def add_parser(sub: argparse._SubParsersAction) -> None:
    """`provision add|revoke|replace|list|export` under `python -m hallserver`."""
    p = sub.add_parser("provision", help="device MQTT credentials and the broker's password and ACL files")
    p.add_argument("--config", type=Path, default=None, help="hall configuration (default: HALL_CONFIG or the demo)")
    p.add_argument("--credentials", type=Path, default=None, help="credentials file (default: beside the config)")
    acts = p.add_subparsers(dest="action", required=True)
    add = acts.add_parser("add", help="register a device (or --kind server) and print its new password")
    add.add_argument("--device", required=True, help="device id from the hall configuration (the MQTT username)")
    add.add_argument("--kind", default=None, help="terminal, led, rating, dispenser, screen, or server")
    add.add_argument("--counter", type=int, default=None)
    add.add_argument("--hall", default=None, help="hall id (default: the configured hall)")
    for name, text in (("revoke", "shut a device out"), ("replace", "give a device a new password")):
        a = acts.add_parser(name, help=text)
        a.add_argument("--device", required=True)
    for a in (add, acts.choices["replace"]):
        a.add_argument("--password-stdin", action="store_true", help="read the password instead of generating one")
    acts.add_parser("list", help="list the logins")
    exp = acts.add_parser("export", help="write Mosquitto's passwd and acl files")
    exp.add_argument("--out", type=Path, required=True, help="directory, e.g. /etc/mosquitto/hall")
    exp.add_argument("--group", default="mosquitto", help="group that may read the files (applied as root)")


def run(args: argparse.Namespace) -> int:
    from hallserver.settings import load_hall_config

    config_path = args.config or (Path(os.environ["HALL_CONFIG"]) if os.environ.get("HALL_CONFIG") else None)
    creds = Credentials(args.credentials or credentials_path(config_path))
    chosen = sys.stdin.readline().rstrip("\n") if getattr(args, "password_stdin", False) else None
    try:
        if args.action == "add":
            password = creds.add(load_hall_config(config_path), args.device, args.kind, args.counter,
                                 args.hall, chosen)
            r = creds.find(args.device)
            assert r is not None
            where = "" if r.counter is None else f", counter {r.counter}"
            _said(creds, f"added {r.username} ({r.kind}{where}) in hall {r.hall}", r.username, password)
        elif args.action == "replace":
            _said(creds, f"new password for {args.device}", args.device, creds.replace(args.device, chosen))
        elif args.action == "revoke":
            creds.revoke(args.device)
            creds.save()
            print(f"revoked {args.device}; run `provision export` and reload the broker to shut it out")
        elif args.action == "list":
            print(f"{'hall':<10} {'login':<14} {'kind':<10} {'counter':>7}  {'status':<8} changed")
            for r in creds.records:
                print(f"{r.hall:<10} {r.username:<14} {r.kind:<10} {'' if r.counter is None else r.counter:>7}  "
                      f"{'active' if r.active else 'revoked':<8} {r.changed_at}")
        elif args.action == "export":
            passwd, acl = creds.export(args.out, args.group)
            print(f"wrote {passwd} and {acl} ({sum(1 for _ in creds.active())} logins); "
                  "reload Mosquitto to apply (systemctl reload hall-mosquitto, or SIGHUP)")
    except ProvisionError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 1
    return 0


def _said(creds: Credentials, what: str, username: str, password: str) -> None:
    creds.save()
    print(what)
    print(f"password (shown once, keep it on the device): {password}")
    record = creds.find(username)
    if record is not None and record.kind == SERVER_KIND:
        print(f"server: HALL_MQTT_URL=mqtt://{username}:{password}@127.0.0.1:1883 (e.g. in /etc/hall/hall.env)")
    else:
        print(f"device URL: mqtt://{username}:{password}@BROKER:1883")
    print(f"run `provision export` and reload the broker to apply ({creds.path})")


def start_embedded(settings: Settings, config: HallConfig) -> tuple[EmbeddedBroker, Settings]:
    """Outside the demo the embedded broker takes the provisioned logins only (no anonymous
    access); the server logs in with a one-off password made for this run."""
    from broker import start_default

    creds = Credentials(credentials_path(settings.config_path))
    if not any(creds.active()):
        log.warning("SECURITY: no device credentials in %s; devices cannot connect until you run "
                    "`python -m hallserver provision add`", creds.path)
    password = new_password()
    with tempfile.TemporaryDirectory(prefix="hall-broker-") as tmp:
        passwd, acls = creds.embedded_files(Path(tmp), config.id, password)
        broker = start_default(password_file=passwd, acls=acls)  # amqtt reads the file at start
    url = f"mqtt://{SERVER_USERNAME}:{password}@{broker.host}:{broker.port}"
    return broker, replace(settings, mqtt_url=url)
