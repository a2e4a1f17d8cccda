"""The processes a benchmark runs: a quiet private Mosquitto, `python -m hallserver` on its own
database, a sampler of a process's CPU and memory (/proc), and fresh PostgreSQL databases."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from broker.mosquitto import MosquittoProcess
from broker.ports import free_port

REPO = Path(__file__).resolve().parents[2]
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def quiet_mosquitto(workdir: Path, max_inflight: int | None = None) -> MosquittoProcess:
    """An anonymous Mosquitto on a free port, configured like production (broker/mosquitto.conf:
    nodelay, max_queued_messages 1000, no persistence here) but without `-v`: logging every packet
    to a pipe read by a Python thread costs the benchmark more than the broker's own work."""
    real = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    wrapper = workdir / "mosquitto-quiet"
    wrapper.write_text(f'#!/bin/sh\n# drop -v (every packet logged)\nexec {real} -c "$2"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    extra = "log_type error\nlog_type warning\nlog_type notice\nlog_type information\nmax_queued_messages 1000"
    if max_inflight is not None:
        extra += f"\nmax_inflight_messages {max_inflight}"
    return MosquittoProcess(str(wrapper), extra_config=extra)


def mosquitto_pid(broker: MosquittoProcess) -> int | None:
    proc = getattr(broker, "_proc", None)
    return proc.pid if proc is not None else None


class HallServer:
    """`python -m hallserver` with HALL_CONFIG, HALL_MQTT_URL, HALL_DATABASE_URL, HALL_HTTP_PORT."""

    def __init__(self, config: Path, mqtt_url: str, database_url: str, log: Path, tree: Path = REPO):
        self.env = dict(os.environ, HALL_CONFIG=str(config), HALL_MQTT_URL=mqtt_url,
                        HALL_DATABASE_URL=database_url, HALL_HTTP_PORT=str(free_port("127.0.0.1")),
                        PYTHONPATH=str(tree))  # `tree`: another checkout's server (a before/after run)
        self.tree = tree
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.started_s = 0.0

    def start(self, timeout: float = 300.0) -> HallServer:
        began = time.perf_counter()
        self._out = open(self.log, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "hallserver"], cwd=self.tree, env=self.env,
                                     stdout=self._out, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hall server exited ({self.proc.returncode}):\n{self.output()[-3000:]}")
            if " ready: " in self.output():
                self.started_s = time.perf_counter() - began
                return self
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"hall server not ready within {timeout}s:\n{self.output()[-3000:]}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self.proc is not None:
            self._out.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def sched_seconds(pid: int) -> dict[int, tuple[float, float]]:
    """Per thread of `pid`, from the kernel's schedstat: (seconds on a CPU, seconds runnable but
    waiting for one). The second is the machine's contention; a thread waiting for the GIL or a
    lock is asleep, in neither."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            on_cpu, waiting, _ = (int(x) / 1e9 for x in (task / "schedstat").read_text().split())
        except (OSError, ValueError):
            continue
        out[int(task.name)] = (on_cpu, waiting)
    return out


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


@dataclass
class Sample:
    t: float  # seconds since the sampler started
    cpu_s: float
    rss_mib: float


@dataclass
class Sampler:
    """CPU and RSS of a process every `every` seconds, on a thread."""
    pid: int
    every: float = 1.0
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sampler-{self.pid}", daemon=True)
        self._t0 = time.perf_counter()

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join(5)
        return self.samples

    def take(self) -> Sample | None:
        try:
            s = Sample(time.perf_counter() - self._t0, cpu_seconds(self.pid), rss_mib(self.pid))
        except (OSError, ValueError, IndexError):
            return None
        self.samples.append(s)
        return s

    def _run(self) -> None:
        while True:
            self.take()
            if self._stop.wait(self.every):
                self.take()
                return

    def summary(self) -> dict:
        """CPU (percent of one core) and RSS over the samples; the RSS drift is the change from the
        first quarter's median to the last quarter's (a flat server stays within a few MiB), the late
        drift from the third quarter's to the last (a day longer than the engine's RETAIN of finished
        tickets, 30 min: the memory then holds the citizens in the hall, not the day's)."""
        s = self.samples
        if len(s) < 2:
            return {}
        wall = s[-1].t - s[0].t
        quarter = max(1, len(s) // 4)

        def median(xs: list[float]) -> float:
            xs = sorted(xs)
            return xs[len(xs) // 2]

        first, last = median([x.rss_mib for x in s[:quarter]]), median([x.rss_mib for x in s[-quarter:]])
        third = median([x.rss_mib for x in s[-2 * quarter:-quarter]]) if len(s) >= 2 * quarter else first
        return {"seconds": round(wall, 1), "cpu_pct": round(100 * (s[-1].cpu_s - s[0].cpu_s) / wall, 1),
                "rss_start_mib": round(s[0].rss_mib, 1), "rss_end_mib": round(s[-1].rss_mib, 1),
                "rss_max_mib": round(max(x.rss_mib for x in s), 1),
                "rss_drift_mib": round(last - first, 1), "rss_late_drift_mib": round(last - third, 1)}


class PostgresDatabase:
    """A database of its own on the benchmark's PostgreSQL (CREATE/DROP DATABASE as postgres)."""

    def __init__(self, base_url: str):
        import sqlalchemy as sa

        self.base = sa.make_url(base_url)
        self.name = f"bench_{uuid.uuid4().hex[:10]}"
        self.url = self.base.set(database=self.name).render_as_string(hide_password=False)

    def __enter__(self) -> PostgresDatabase:
        self._admin(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(self.base, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(sql))
        finally:
            engine.dispose()


def sqlite_url(workdir: Path, name: str) -> str:
    return f"sqlite:///{workdir / name}"


def temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="province-bench-"))


def revision(tree: Path) -> str:
    """The commit of a checkout, with "+changes" when its tracked files differ from it."""
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(tree), *a], capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "a copy outside git"
    return head + ("+changes" if git("status", "--porcelain", "-uno") else "")


def loadavg() -> str:
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])
