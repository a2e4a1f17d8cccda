"""`python -m hallserver` as a subprocess for fault tests: start, kill -9, restart, its HTTP API."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from hallserver.settings import DEMO_CONFIG

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.base = ""
        self.output: list[str] = []  # every line the server printed, over all its starts

    def start(self, timeout: float = 30.0) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "hallserver"], cwd=REPO, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[str] = queue.Queue()
        proc = self.proc

        def pump() -> None:
            for line in proc.stdout:
                self.output.append(line)
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        seen = []
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError("server did not start:\n" + "".join(seen)) from None
            seen.append(line)
            found = re.search(r" ready: .*?(http://[^/\s]+)", line)
            if found:
                self.base = found.group(1)
                return

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)

    def get(self, path: str) -> dict:
        r = httpx.get(self.base + path, timeout=10)
        r.raise_for_status()
        return r.json()


def hall_env(tmp_path: Path, mqtt_url: str, hall_id: str, database_url: str | None = None) -> dict[str, str]:
    """The environment of `python -m hallserver` for the demo hall under `hall_id`, always open."""
    config = tmp_path / "hall.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'id = "demo"', f'id = "{hall_id}"\nalways_open = true'), encoding="utf-8")
    return dict(os.environ, HALL_MQTT_URL=mqtt_url, HALL_CONFIG=str(config), HALL_HTTP_PORT="0",
                HALL_DATABASE_URL=database_url or f"sqlite:///{tmp_path / 'hall.db'}")
