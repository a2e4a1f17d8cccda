"""The documented backups (README, "Backup and restore") restore the same day.

Each test plays part of a day on a live store, backs it up while that store is open, restores the
copy into a fresh file or database with the real tools (sqlite3's backup API and `.backup`,
`pg_dump`/`pg_restore`, `pg_dump | psql`), and starts a second service on the copy: same board,
queues, device states and tickets, the same reply to a retried message, and the next number after
the last one issued.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.require import missing, require_binary

import protocols
from hallserver.service import HallService
from hallserver.settings import load_hall_config
from hallserver.store import Store

from .invariants import observable

HALL = "backup"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def open_service(url: str, migrate: bool = True) -> HallService:
    service = HallService(load_hall_config(None, id=HALL, always_open=True), Store(url), clock=lambda: NOW)
    if migrate:  # what the server does at every start (a no-op on a restored store)
        service.store.migrate()
    service.load()
    return service


def up(service: HallService, device: str, t: str, msg_id: str, fields: dict | None = None) -> dict:
    reply = service.handle_up(device, protocols.encode(protocols.make_up(t, msg_id, fields))).reply
    assert reply is not None, (device, t)
    return reply


def play_day(live: HallService) -> None:
    """Four tickets, a call served and rated, a second call under way."""
    steps = [("kiosk-1", "ticket.take", {"service": "tu-phap"}), ("kiosk-1", "ticket.take", {"service": "tu-phap"}),
             ("kiosk-1", "ticket.take", {"service": "giao-thong"}),
             ("kiosk-1", "ticket.take", {"service": "ke-hoach-dau-tu"}),
             ("ct-01", "officer.login", {"officer": "o01", "pin": "0000"}), ("ct-01", "call.next", None),
             ("ct-01", "serve.done", None), ("rb-01", "rating.vote", {"score": "hai-long"}),
             ("ct-01", "call.next", None)]
    for i, (device, t, fields) in enumerate(steps, 1):
        reply = up(live, device, t, f"b-{i}", fields)
        assert reply["ok"], reply


def untracked(replies: list[dict]) -> list[dict]:
    """Replies without a new ticket's tracking link (a random token on each side)."""
    return [{**r, "ticket": {k: v for k, v in r["ticket"].items() if k != "track_url"}} if "ticket" in r else r
            for r in replies]


def check_restored(live: HallService, restored: HallService) -> None:
    assert observable(restored) == observable(live)
    assert [r.number for r in restored.store.ratings(HALL)] == ["A001"]
    # the copy goes on exactly as the live store does: a retry from before the backup gets its
    # stored reply (not a second ticket), then the next number, the end of the call, the next call
    after = [("kiosk-1", "ticket.take", "b-1", {"service": "tu-phap"}),
             ("kiosk-1", "ticket.take", "after-1", {"service": "tu-phap"}),
             ("ct-01", "serve.done", "after-2", None), ("ct-01", "call.next", "after-3", None)]
    replies = [up(restored, *step) for step in after]
    assert untracked(replies) == untracked([up(live, *step) for step in after])
    assert [r["ok"] for r in replies] == [True] * 4, replies
    assert replies[0]["ticket"]["number"] == "A001" and replies[1]["ticket"]["number"] == "A003"
    assert observable(restored) == observable(live)


# -- SQLite ---------------------------------------------------------------------------------
def _api_backup(src: Path, copy: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(copy) as b:
        a.backup(b)
    a.close()
    b.close()


def _cli_backup(src: Path, copy: Path) -> None:
    binary = require_binary("sqlite3", "sqlite3")
    subprocess.run([binary, str(src), f".backup {copy}"], check=True, capture_output=True, timeout=60)
    check = subprocess.run([binary, str(copy), "PRAGMA integrity_check"], check=True, capture_output=True,
                           text=True, timeout=60)
    assert check.stdout.strip() == "ok", check.stdout


@pytest.mark.parametrize("backup", [_api_backup, _cli_backup], ids=["backup-api", "sqlite3-cli"])
def test_sqlite_backup_restores_the_day(tmp_path: Path, backup: Callable[[Path, Path], None]) -> None:
    """`sqlite3 hall.db ".backup copy.db"` (and the same API from Python) while the store is open
    in WAL mode, then the copy put in place of an empty var/ as the README's restore does."""
    src = tmp_path / "hall.db"
    live = open_service(f"sqlite:///{src}")
    try:
        play_day(live)
        copy = tmp_path / "restored" / "hall.db"
        copy.parent.mkdir()
        backup(src, copy)
        restored = open_service(f"sqlite:///{copy}")
        try:
            check_restored(live, restored)
        finally:
            restored.store.close()
    finally:
        live.store.close()


# -- PostgreSQL -----------------------------------------------------------------------------
@pytest.fixture
def postgres() -> Iterator[Callable[[], str]]:
    """fresh() -> the SQLAlchemy URL of a new empty database on HALL_TEST_DATABASE_URL's server
    (dropped afterwards): a backup restores into an empty database, as the README says."""
    base = os.environ.get("HALL_TEST_DATABASE_URL")
    if not base:
        missing("the PostgreSQL backup test needs HALL_TEST_DATABASE_URL (e.g. "
                "postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    import sqlalchemy as sa

    url = sa.make_url(base)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")  # CREATE DATABASE runs outside a transaction
    made: list[str] = []

    def fresh() -> str:
        name = f"hall_backup_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    try:
        yield fresh
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def libpq(url: str) -> str:
    """The libpq URI of a SQLAlchemy URL (pg_dump, pg_restore and psql take it as --dbname)."""
    import sqlalchemy as sa

    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run([require_binary(name, "postgresql-client"), *args], input=stdin, capture_output=True,
                          timeout=120)
    assert done.returncode == 0, f"{name} failed: {done.stderr.decode(errors='replace')}"
    return done.stdout


@contextmanager
def _services(live_url: str) -> Iterator[HallService]:
    live = open_service(live_url)
    try:
        yield live
    finally:
        live.store.close()


def test_pg_dump_and_pg_restore_restore_the_day(postgres: Callable[[], str], tmp_path: Path) -> None:
    """`pg_dump --format=custom` while the server's store is open, `pg_restore --no-owner` into a
    fresh database, the server started on it."""
    require_binary("pg_dump", "postgresql-client")
    require_binary("pg_restore", "postgresql-client")
    source, target = postgres(), postgres()
    with _services(source) as live:
        play_day(live)
        dump = tmp_path / "hall.dump"
        _tool("pg_dump", "--format=custom", f"--file={dump}", f"--dbname={libpq(source)}")
        assert dump.stat().st_size > 0
        _tool("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq(target)}", str(dump))
        with _services(target) as restored:
            check_restored(live, restored)


def test_plain_pg_dump_through_psql_restores_the_day(postgres: Callable[[], str]) -> None:
    """The plain SQL form (`pg_dump | psql`), for a restore with nothing but psql at hand."""
    require_binary("psql", "postgresql-client")
    source, target = postgres(), postgres()
    with _services(source) as live:
        play_day(live)
        sql = _tool("pg_dump", "--no-owner", f"--dbname={libpq(source)}")
        _tool("psql", "--quiet", "-v", "ON_ERROR_STOP=1", f"--dbname={libpq(target)}", stdin=sql)
        with _services(target) as restored:
            check_restored(live, restored)
