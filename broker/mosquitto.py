"""A private Mosquitto process (tests, benchmarks): own config, free port, readiness read from its log.

Production uses Mosquitto, and amqtt differs from it (ACLs, retained delivery), so
integration tests run against both. Readiness is the "mosquitto version X running" log
line, which Mosquitto prints only after every listener is bound (the "Opening ipv4 listen
socket" line comes *before* the bind and is followed by "Address already in use" on failure).
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from broker.ports import free_port

_READY_MARK = " running"
_ADDRESS_IN_USE = "Address already in use"


class MosquittoProcess:
    """`mosquitto -c <tmp conf> -v` on 127.0.0.1, restartable on the same port.

    `persistence_dir` turns on Mosquitto persistence there, so a test can restart the broker
    and find sessions and retained messages again (saved on a clean `stop()`, not on `kill()`).
    `extra_config` is appended verbatim (password_file, acl_file, ... for later tests).
    `config` replaces the whole generated configuration (the production file rewritten for a
    test); its listeners are its own, so give `port` too (the one `url` names); it must log to
    stderr, where readiness is read.
    """

    def __init__(
        self,
        binary: str = "mosquitto",
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        persistence_dir: Path | None = None,
        extra_config: str = "",
        config: str | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.binary = binary
        self.host = host
        self.port = port if port is not None else 0
        self._fixed_port = port is not None
        self.persistence_dir = persistence_dir
        self.extra_config = extra_config
        self.config = config
        self.start_timeout = start_timeout
        self.log: collections.deque[str] = collections.deque(maxlen=2000)
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._workdir: Path | None = None
        self._port_taken = threading.Event()
        self._log_cond = threading.Condition()
        self._reloads = 0  # "Reloading config" lines seen

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> int:
        """Start Mosquitto and block until it listens; return the port.

        A free port is chosen the first time; if another process grabs it before Mosquitto
        binds, a new one is tried (only while no port has been fixed by a previous start).
        """
        if self.running:
            raise RuntimeError("mosquitto already running")
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            if not self._fixed_port:
                self.port = free_port(self.host)
            try:
                self._start_once()
            except _PortTaken:
                if attempt == attempts - 1:
                    raise RuntimeError(f"mosquitto: port {self.port} in use\n{self.log_text()}") from None
                continue
            self._fixed_port = True  # restart() must come back on the same port
            return self.port
        raise AssertionError("unreachable")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait: Mosquitto saves persistence and exits cleanly."""
        self._end(signal.SIGTERM, timeout)

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL and wait: a crash, nothing saved."""
        self._end(signal.SIGKILL, timeout)

    def restart(self, timeout: float = 10.0) -> int:
        """Clean stop, then start on the same port with the same configuration."""
        self.stop(timeout)
        return self.start()

    def reload(self, timeout: float = 10.0) -> None:
        """SIGHUP: Mosquitto re-reads its password and ACL files and disconnects clients whose
        login is no longer valid (what `systemctl reload` does in production). Returns once
        Mosquitto logged the reload: its single loop handles no client before finishing it."""
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError("mosquitto is not running")
        with self._log_cond:
            seen = self._reloads
            self._proc.send_signal(signal.SIGHUP)
            if not self._log_cond.wait_for(lambda: self._reloads > seen, timeout):
                raise TimeoutError(f"mosquitto did not reload within {timeout}s\n{self.log_text()}")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def log_text(self) -> str:
        return "\n".join(self.log)

    def __enter__(self) -> MosquittoProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------------
    def config_text(self) -> str:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "log_dest stderr",  # stderr is unbuffered; stdout to a pipe would be block-buffered
            "set_tcp_nodelay true",  # as in production: no 40 ms Nagle/delayed-ACK stalls
        ]
        if os.geteuid() == 0:
            # As root Mosquitto would drop to the `mosquitto` user, which cannot read our temp
            # files; `user root` keeps it as root (it warns, that is all).
            lines.append("user root")
        if self.persistence_dir is not None:
            self.persistence_dir.mkdir(parents=True, exist_ok=True)
            lines += ["persistence true", f"persistence_location {self.persistence_dir}/"]
        else:
            lines.append("persistence false")
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"

    def _start_once(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="hall-mosquitto-"))
        conf = self._workdir / "mosquitto.conf"
        conf.write_text(self.config if self.config is not None else self.config_text(), encoding="utf-8")
        settled = threading.Event()
        listening = threading.Event()
        self._port_taken = threading.Event()
        self._proc = subprocess.Popen(
            [self.binary, "-c", str(conf), "-v"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self._reader = threading.Thread(
            target=self._read_log, args=(self._proc, listening, settled), name=f"mosquitto-log-{self.port}", daemon=True
        )
        self._reader.start()
        # `settled` is set by the "running" line (with `listening`), or at EOF if Mosquitto exits.
        settled.wait(self.start_timeout)
        if listening.is_set():
            return
        if not settled.is_set():
            self._end(signal.SIGKILL, 5.0)
            raise TimeoutError(f"mosquitto not ready within {self.start_timeout}s\n{self.log_text()}")
        self._end(signal.SIGKILL, 5.0)
        if self._port_taken.is_set():
            raise _PortTaken
        raise RuntimeError(f"mosquitto exited during start-up\n{self.log_text()}")

    def _read_log(self, proc: subprocess.Popen[str], listening: threading.Event, settled: threading.Event) -> None:
        """Drain the log for the whole process life (a full pipe would block Mosquitto)."""
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            with self._log_cond:
                self.log.append(line)
                self._reloads += "Reloading config" in line
                self._log_cond.notify_all()
            if _ADDRESS_IN_USE in line:
                self._port_taken.set()
            if not listening.is_set() and line.endswith(_READY_MARK) and "mosquitto version" in line:
                listening.set()
                settled.set()
        settled.set()

    def _end(self, sig: signal.Signals, timeout: float) -> None:
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
            if self._reader is not None:
                self._reader.join(timeout)
            if proc.stdout is not None:
                proc.stdout.close()
        self._proc = None
        self._reader = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


class _PortTaken(Exception):
    """The free port was taken before Mosquitto could bind it."""
