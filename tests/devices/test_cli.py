"""The agents as installed: `python -m firmware.counter_terminal` and `python -m firmware.ticket_dispenser`
started as processes from their TOML files, against the real server (the systemd units run these)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from support.listener import Listener

import protocols

REPO = Path(__file__).resolve().parents[2]


def spawn(module: str, config: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", module, "--config", str(config), "--pin-factory", "mock", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=REPO)


def lines_of(proc: subprocess.Popen) -> queue.Queue[str]:
    out: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [out.put(line) for line in proc.stdout], daemon=True).start()
    return out


def wait_line(out: queue.Queue[str], text: str, timeout: float = 15.0) -> None:
    seen = []
    while True:
        try:
            line = out.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{text!r} never printed; got {''.join(seen[-30:])}") from None
        seen.append(line)
        if text in line:
            return


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(10)


def test_counter_terminal_process_on_the_console(server, device, mqtt_url, hall_id, tmp_path):
    device("kiosk-1").request("ticket.take", {"service": "ke-hoach-dau-tu"})
    config = tmp_path / "terminal.toml"
    config.write_text(f'hall = "{hall_id}"\ndevice = "ct-05"\nbroker = "{mqtt_url}"\n'
                      f'state_dir = "{tmp_path}"\ninput = "stdin"\ndisplay = "console"\n')
    proc = spawn("firmware.counter_terminal", config)
    out = lines_of(proc)
    try:
        wait_line(out, "|CHƯA ĐĂNG NHẬP")
        proc.stdin.write("*1\n5#\n0000#\n")
        proc.stdin.flush()
        wait_line(out, "|XIN CHÀO")
        proc.stdin.write("a\n")  # NEXT typed on a console
        proc.stdin.flush()
        wait_line(out, "|SỐ B001 ĐANG GỌI")
    finally:
        stop(proc)
    assert proc.returncode == 0  # SIGTERM: a clean stop, status offline published


def test_ticket_dispenser_process_reports_its_printer_and_takes_a_block(server, mqtt_url, hall_id, tmp_path,
                                                                        pty_printer):
    status = Listener(mqtt_url, protocols.topics.status(hall_id, "kiosk-2"))
    replies = Listener(mqtt_url, protocols.topics.down(hall_id, "kiosk-2"))
    config = tmp_path / "dispenser.toml"
    config.write_text(f'hall = "{hall_id}"\ndevice = "kiosk-2"\nbroker = "{mqtt_url}"\nstate_dir = "{tmp_path}"\n'
                      f'[printer]\nport = "{pty_printer.path}"\n[offline]\nblock_size = 5\n'
                      f'[[buttons]]\nservice = "tu-phap"\ngpio = 17\nled = 27\n')
    proc = spawn("firmware.ticket_dispenser", config)
    lines_of(proc)
    try:
        st = status.wait_for(lambda m: m.get("online") and m.get("paper") == "ok", timeout=15)
        assert st["printer"] == "ok" and st["fw"] == "1.0.0"
        block = replies.wait_for(lambda m: "block" in m, timeout=15)["block"]
        assert ["tu-phap", "A", 995, 999] in block["services"]
    finally:
        stop(proc)
    assert proc.returncode == 0
    status.wait_for(lambda m: m.get("online") is False)  # said before a clean stop
    assert pty_printer.cleared == 1  # the buffer cleared at start, nothing printed
    status.close()
    replies.close()


def test_report_journal_sends_a_dead_dispensers_journal_once(server, mqtt_url, hall_id, tmp_path):
    """A dispenser died with a take never answered and an offline ticket not reported; its journal,
    copied off the SD card, is reported by the replacement's command, twice without a second effect."""
    import json
    import shutil
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from firmware.pilink import DeviceLink

    dead = DeviceLink(mqtt_url, hall_id, "kiosk-2", boot="7").start()
    dead.request("ticket.block", {"size": 5}, msg_id="7-1")
    phantom = dead.request("ticket.take", {"service": "tu-phap"}, msg_id="7-2")["ticket"]["number"]  # reply lost
    dead.drop()
    issued = datetime.now(ZoneInfo(server.config.timezone)).isoformat(timespec="seconds")
    journal = tmp_path / "copied" / "journal.json"
    journal.parent.mkdir()
    journal.write_text(json.dumps({
        "boot": 7, "pending": None, "voids": [{"id": "7-3", "take": "7-2"}], "unconfirmed": [],
        "offline": [{"id": "7-4", "service": "tu-phap", "number": "A999", "issued_at": issued}]}))
    shutil.copy(journal, tmp_path / "copy-2.json")
    config = tmp_path / "dispenser.toml"
    config.write_text(f'hall = "{hall_id}"\ndevice = "kiosk-2"\nbroker = "{mqtt_url}"\nstate_dir = "{tmp_path}"\n'
                      f'[printer]\nport = "/dev/null"\n')

    for copy in (journal, tmp_path / "copy-2.json"):  # the second: someone reports the same file again
        proc = spawn("firmware.ticket_dispenser", config, "report-journal", str(copy))
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, output
        assert "voids 1/1, offline tickets 1/1, print confirmations 0/0 sent" in output
        left = json.loads(copy.read_text())
        assert left["voids"] == [] and left["offline"] == []
    hall = server.service.hall
    assert [t.number for t in hall.waiting("tu-phap")] == ["A999"]
    assert hall.tickets[phantom].status == "voided" and hall.tickets["A999"].offline
    assert server.service.metrics["duplicates"] >= 2
