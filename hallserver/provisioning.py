"""Device credentials: register, revoke and replace MQTT logins; write the broker's files.

The hall configurations (TOML) declare which devices exist; this module keeps their logins in
a credentials file (JSON, mode 0600) next to them, one file per province (or per hall): one
record per login, carrying its hall, with the Mosquitto `$7$` hash of its password, never the
password. A device logs in as `{hall}.{device}` (device ids repeat across halls); a server
login reads and writes every hall of the file; a serial LED board controller's record lists the
LED displays whose states it reads (those of its declared counters; `export` follows the
configuration). `export` turns the active records into
Mosquitto's password_file and acl_file; the embedded broker reads the same hashes.

Files written before logins carried their hall (bare `ct-05`) are refused until
`provision migrate` renames their records (the passwords stay; each device's user name changes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from broker.acl import BOARDS_KIND, SERVER_KIND, Account, acl_text, amqtt_acls, password_file_text
from broker.passwords import hash_password, new_password
from hallserver.domain.config import Device, HallConfig
from protocols import topics
from protocols.errors import ProtocolError

if TYPE_CHECKING:
    from broker import EmbeddedBroker
    from broker.embedded import Logins
    from hallserver.settings import Settings

__all__ = ["Credentials", "ProvisionError", "Record", "add_parser", "by_hall", "config_files", "credentials_path",
           "load_configs", "run", "start_embedded"]

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
    watches: list[str] = field(default_factory=list)  # a boards controller's LED displays

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def legacy(self) -> bool:
        """A device login from before logins carried their hall (`ct-05` instead of `demo.ct-05`)."""
        return self.kind != SERVER_KIND and "." not in self.username

    def account(self, halls: Iterable[str] = ()) -> Account:
        served = tuple(halls) if self.kind == SERVER_KIND else ()
        return Account(self.username, self.hall, self.kind, self.password_hash, self.device, served,
                       tuple(self.watches))


HallConfigs = HallConfig | Iterable[HallConfig] | Mapping[str, HallConfig]


def by_hall(configs: HallConfigs) -> dict[str, HallConfig]:
    """One hall configuration, several, or a mapping of them, as {hall id: configuration}."""
    if isinstance(configs, HallConfig):
        return {configs.id: configs}
    if isinstance(configs, Mapping):
        return dict(configs)
    return {c.id: c for c in configs}


def watched(config: HallConfig, device: Device) -> list[str]:
    """The LED displays whose `state` a boards controller reads: those of the counters it drives."""
    return [d.id for d in config.devices.values() if d.kind == "led" and d.counter in device.counters]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def credentials_path(config_path: Path | None, env: dict[str, str] | None = None) -> Path:
    """HALL_CREDENTIALS, else `<config>.credentials.json` beside HALL_CONFIG (`credentials.json`
    inside it when it is a directory of hall configurations), else var/credentials.json."""
    env = dict(os.environ if env is None else env)
    if env.get("HALL_CREDENTIALS"):
        return Path(env["HALL_CREDENTIALS"])
    if config_path is not None:
        if config_path.is_dir():
            return config_path / "credentials.json"
        return config_path.with_name(config_path.stem + ".credentials.json")
    return Path("var") / "credentials.json"


def config_files(paths: Iterable[Path]) -> list[Path]:
    """Configuration files: each path a TOML file, or a directory of them (`*.toml`)."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.toml")) if path.is_dir() else [path]
    return files


def load_configs(paths: Iterable[Path]) -> list[HallConfig]:
    """The halls of `config_files(paths)`: each file one hall, or a province file (HALL_CONFIG's
    `[province]` with its `[[halls]]`) giving all of its halls; none given: the demo hall."""
    from hallserver.province import load_province

    halls: dict[str, HallConfig] = {}
    for path in config_files(paths) or [None]:
        halls.update((src.config.id, src.config) for src in load_province(path).halls)
    return list(halls.values())


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

    def halls(self) -> list[str]:
        """The halls of the active logins: what a server login of this file serves."""
        return sorted({r.hall for r in self.active()})

    def accounts(self, halls: Iterable[str] = ()) -> list[Account]:
        """The active logins; a server login serves every hall of the file and `halls`."""
        self._refuse_legacy()
        served = sorted(set(self.halls()) | set(halls))
        return [r.account(served) for r in self.active()]

    def login(self, device: str, hall: str | None = None) -> str:
        """The username meant by a device id (with `hall`, or the file's only hall), a full
        `{hall}.{device}` login, or a server login."""
        record = self.find(device)
        if "." in device or (record is not None and record.kind == SERVER_KIND):
            return device
        if hall is None:
            halls = {r.hall for r in self.records}
            if len(halls) != 1:
                listed = ", ".join(sorted(halls)) or "(none)"
                raise ProvisionError(f"{device!r}: the credentials file holds halls {listed}; say which with --hall")
            hall = halls.pop()
        return _username(hall, device)

    # -- operations ------------------------------------------------------------------------
    def add(self, configs: HallConfigs, device: str, kind: str | None = None, counter: int | None = None,
            hall: str | None = None, password: str | None = None) -> str:
        """Register a login for a device declared in its hall's configuration (or a server login
        named `device`); return its password. `hall` may be left out when one hall is configured."""
        self._refuse_legacy()
        configured = by_hall(configs)
        if hall is None:
            if len(configured) != 1:
                raise ProvisionError(f"halls {', '.join(sorted(configured))} are configured; say which with --hall")
            hall = next(iter(configured))
        config = configured.get(hall)
        if config is None:
            raise ProvisionError(f"hall {hall!r} is not configured ({', '.join(sorted(configured))}); "
                                 "give its configuration with --config (or HALL_CONFIG)")
        if kind == SERVER_KIND:
            counter, watches = None, []
            if not topics.is_slug(device):
                raise ProvisionError(f"a server login is a slug (a-z, 0-9, inner dashes), got {device!r}")
            username = device
        else:
            declared = config.devices.get(device)
            if declared is None:
                raise ProvisionError(f"device {device!r} is not declared in the hall configuration; add it there first")
            if kind not in (None, declared.kind) or (counter is not None and counter != declared.counter):
                raise ProvisionError(f"device {device!r} is declared as {declared.kind}"
                                     f"{'' if declared.counter is None else f' at counter {declared.counter}'}")
            kind, counter = declared.kind, declared.counter
            watches = watched(config, declared) if kind == BOARDS_KIND else []
            username = _username(hall, device)
        old = self.find(username)
        if old is not None and old.active:
            raise ProvisionError(f"{username!r} already has credentials; use `replace` for a new password")
        password = password or new_password()
        now = _now()
        record = Record(username, hall, kind, hash_password(password), None if kind == SERVER_KIND else device,
                        counter, now, now, watches=watches)
        record.account()  # validates the names
        if old is not None:
            self.records.remove(old)
        self.records.append(record)
        return password

    def revoke(self, login: str) -> Record:
        """Shut a login out (a full login, or a device id of the file's only hall) at the next export."""
        record = self._active(login)
        record.revoked_at = record.changed_at = _now()
        return record

    def replace(self, login: str, password: str | None = None) -> str:
        """A new password for an active login; the old one stops working at the next export."""
        record = self._active(login)
        password = password or new_password()
        record.password_hash, record.changed_at = hash_password(password), _now()
        return password

    def migrate(self) -> list[tuple[str, str]]:
        """Rename bare device logins to `{hall}.{device}` (hashes kept); return (old, new) pairs."""
        renamed = []
        for r in self.records:
            if r.legacy:
                new = _username(r.hall, r.device or r.username)
                if self.find(new) is not None:
                    raise ProvisionError(f"cannot rename {r.username!r}: {new!r} exists too")
                renamed.append((r.username, new))
                r.username, r.device = new, r.device or r.username
                r.changed_at = _now()
        return renamed

    def follow(self, configs: HallConfigs) -> list[Record]:
        """Give each active boards controller of a configured hall the LED displays its declared
        counters have now (an LED added or renamed since `add`); return the records changed."""
        configured, changed = by_hall(configs), []
        for r in self.active():
            config = configured.get(r.hall)
            declared = config.devices.get(r.device or "") if config is not None else None
            if r.kind == BOARDS_KIND and config is not None and declared is not None and declared.kind == BOARDS_KIND:
                now = watched(config, declared)
                if now != r.watches:
                    r.watches, r.changed_at = now, _now()
                    changed.append(r)
        return changed

    def export(self, directory: Path, group: str | None = "mosquitto", halls: Iterable[str] = ()) -> tuple[Path, Path]:
        """Write `passwd` and `acl` for Mosquitto into `directory` (0640, group `group` when root);
        `halls`: the configured halls, which the server login serves even before they have devices."""
        accounts = self.accounts(halls)
        passwd, acl = directory / "passwd", directory / "acl"
        _write_atomic(passwd, password_file_text(accounts), 0o640, group)
        _write_atomic(acl, acl_text(accounts), 0o640, group)
        return passwd, acl

    def embedded_accounts(self, halls: str | Iterable[str], server_hash: str) -> list[Account]:
        """The embedded broker's logins: the devices, and a one-off server login (`server_hash`)
        for `halls` and every hall of the file."""
        served = sorted(set([halls] if isinstance(halls, str) else halls) | set(self.halls()))
        server = Account(SERVER_USERNAME, served[0], SERVER_KIND, server_hash, halls=tuple(served))
        return [a for a in self.accounts() if a.username != SERVER_USERNAME] + [server]

    def embedded_files(self, directory: Path, halls: str | Iterable[str],
                       server_password: str) -> tuple[Path, tuple[dict, dict]]:
        """The embedded broker's password file (`embedded_accounts`) and its ACLs."""
        accounts = self.embedded_accounts(halls, hash_password(server_password))
        passwd = directory / "passwd"
        _write_atomic(passwd, password_file_text(accounts), 0o600)
        return passwd, amqtt_acls(accounts)

    def _active(self, login: str) -> Record:
        self._refuse_legacy()
        username = self.login(login)
        record = self.find(username)
        if record is None or not record.active:
            raise ProvisionError(f"{username!r} has no active credentials")
        return record

    def _refuse_legacy(self) -> None:
        old = [r.username for r in self.records if r.legacy]
        if old:
            raise ProvisionError(
                f"{self.path} holds device logins without their hall ({', '.join(old[:5])}"
                f"{', ...' if len(old) > 5 else ''}); logins are now {{hall}}.{{device}}: run "
                "`python -m hallserver provision migrate`, then set each device's MQTT user name")


def _username(hall: str, device: str) -> str:
    try:
        return topics.username(hall, device)
    except ProtocolError as exc:
        raise ProvisionError(f"hall and device ids are slugs (a-z, 0-9, inner dashes): {hall!r}, {device!r}") from exc


# -- command line ----------------------------------------------------------------------------
def add_parser(sub: argparse._SubParsersAction) -> None:
    """`provision add|revoke|replace|list|export|migrate` under `python -m hallserver`."""
    p = sub.add_parser("provision", help="device MQTT credentials and the broker's password and ACL files")
    p.add_argument("--config", type=Path, action="append", default=None,
                   help="hall or province configuration file (HALL_CONFIG's), or a directory of hall files; "
                        "repeatable (default: HALL_CONFIG or the demo)")
    p.add_argument("--credentials", type=Path, default=None,
                   help="credentials file, one per province (default: beside the first config)")
    acts = p.add_subparsers(dest="action", required=True)
    add = acts.add_parser("add", help="register a device (or --kind server) and print its new password")
    add.add_argument("--device", required=True,
                     help="device id from the hall configuration (login {hall}.{device}), or a server login name")
    add.add_argument("--kind", default=None, help="terminal, led, rating, dispenser, screen, boards, or server")
    add.add_argument("--counter", type=int, default=None)
    add.add_argument("--hall", default=None, help="hall id (default: the configured hall, when there is one)")
    for name, text in (("revoke", "shut a device out"), ("replace", "give a device a new password")):
        a = acts.add_parser(name, help=text)
        a.add_argument("--device", required=True, help="device id (with --hall), {hall}.{device}, or a server login")
        a.add_argument("--hall", default=None, help="hall id (default: the only hall of the credentials file)")
    for a in (add, acts.choices["replace"]):
        a.add_argument("--password-stdin", action="store_true", help="read the password instead of generating one")
    acts.add_parser("list", help="list the logins")
    acts.add_parser("migrate", help="rename device logins of an older file to {hall}.{device} (passwords kept)")
    exp = acts.add_parser("export", help="write Mosquitto's passwd and acl files")
    exp.add_argument("--out", type=Path, required=True, help="directory, e.g. /etc/mosquitto/hall")
    exp.add_argument("--group", default="mosquitto", help="group that may read the files (applied as root)")


def run(args: argparse.Namespace) -> int:
    paths = args.config or ([Path(os.environ["HALL_CONFIG"])] if os.environ.get("HALL_CONFIG") else [])
    creds = Credentials(args.credentials or credentials_path(paths[0] if paths else None))
    chosen = sys.stdin.readline().rstrip("\n") if getattr(args, "password_stdin", False) else None
    try:
        if args.action == "add":
            configs = load_configs(paths)
            password = creds.add(configs, args.device, args.kind, args.counter, args.hall, chosen)
            r = creds.records[-1]
            where = "" if r.counter is None else f", counter {r.counter}"
            where += f", reads the states of {', '.join(r.watches)}" if r.watches else ""
            _said(creds, f"added {r.username} ({r.kind}{where}) in hall {r.hall}", r.username, password)
        elif args.action == "replace":
            login = creds.login(args.device, args.hall)
            _said(creds, f"new password for {login}", login, creds.replace(login, chosen))
        elif args.action == "revoke":
            login = creds.login(args.device, args.hall)
            creds.revoke(login)
            creds.save()
            print(f"revoked {login}; run `provision export` and reload the broker to shut it out")
        elif args.action == "list":
            print(f"{'hall':<12} {'login':<24} {'kind':<10} {'counter':>7}  {'status':<8} changed")
            for r in creds.records:
                print(f"{r.hall:<12} {r.username:<24} {r.kind:<10} {'' if r.counter is None else r.counter:>7}  "
                      f"{'active' if r.active else 'revoked':<8} {r.changed_at}")
        elif args.action == "migrate":
            renamed = creds.migrate()
            creds.save()
            for old, new in renamed:
                print(f"{old} -> {new}")
            print(f"{len(renamed)} logins renamed, passwords kept; set each device's MQTT user name (mqtt_user on a "
                  "board, the broker URL of a Pi agent), then `provision export` and reload the broker")
        elif args.action == "export":
            configs = load_configs(paths) if paths else []
            followed = creds.follow(configs)
            if followed:
                creds.save()
            for r in followed:
                print(f"{r.username} now reads the states of {', '.join(r.watches) or '(none)'}")
            passwd, acl = creds.export(args.out, args.group, [c.id for c in configs])
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
        print(f"server of halls {', '.join(creds.halls())}: HALL_MQTT_URL=mqtt://{username}:{password}@127.0.0.1:1883"
              " (e.g. in /etc/hall/hall.env)")
    else:
        print(f"device URL: mqtt://{username}:{password}@BROKER:1883")
    print(f"run `provision export` and reload the broker to apply ({creds.path})")


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when the credentials file is saved (a new file renamed over it)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def embedded_refresh(path: Path, halls: list[str], server_hash: str) -> Callable[[], Logins | None]:
    """For EmbeddedBroker(refresh=...): the logins of the credentials file at `path` when it has
    changed since the last call (or since now), else None. So `provision add|revoke|replace` and
    the admin page take effect on the running embedded broker without `export` or a restart."""
    seen = _stamp(path)

    def refresh() -> Logins | None:
        nonlocal seen
        stamp = _stamp(path)
        if stamp == seen:
            return None
        seen = stamp  # a file refused below (from before hall logins) is reported once, not every time
        accounts = Credentials(path).embedded_accounts(halls, server_hash)
        return {a.username: a.password_hash for a in accounts}, amqtt_acls(accounts)

    return refresh


def start_embedded(settings: Settings, configs: HallConfigs) -> tuple[EmbeddedBroker, Settings]:
    """Outside the demo the embedded broker takes the provisioned logins only (no anonymous
    access); the server logs in with a one-off password made for this run, for every hall of
    `configs` and of the credentials file. The broker follows changes of the credentials file."""
    from broker import start_default

    creds = Credentials(credentials_path(settings.config_path))
    if not any(creds.active()):
        log.warning("SECURITY: no device credentials in %s; devices cannot connect until you run "
                    "`python -m hallserver provision add`", creds.path)
    password = new_password()
    halls = list(by_hall(configs))
    server_hash = hash_password(password)
    refresh = embedded_refresh(creds.path, halls, server_hash)
    with tempfile.TemporaryDirectory(prefix="hall-broker-") as tmp:
        accounts = creds.embedded_accounts(halls, server_hash)
        passwd = Path(tmp) / "passwd"
        _write_atomic(passwd, password_file_text(accounts), 0o600)
        # amqtt reads the file at start; later changes come through `refresh`
        broker = start_default(password_file=passwd, acls=amqtt_acls(accounts), refresh=refresh)
    url = f"mqtt://{SERVER_USERNAME}:{password}@{broker.host}:{broker.port}"
    return broker, replace(settings, mqtt_url=url)
