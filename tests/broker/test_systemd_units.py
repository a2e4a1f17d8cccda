"""The systemd units of the broker, the hall server and the Pi agents: `systemd-analyze verify`
(skipped, naming the package, where systemd is not installed), then what it cannot know: each unit
runs a command of this repository with a documented file, as the documented user, restarts, and
the server's environment file holds names the server reads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.require import REPO_ROOT, missing, require_binary

from broker.client import MqttUrl
from firmware.counter_terminal import config as terminal_config
from firmware.ticket_dispenser import config as dispenser_config
from hallserver.settings import Settings

UNITS = {
    "hall-mosquitto.service": REPO_ROOT / "broker/systemd/hall-mosquitto.service",
    "hall-server.service": REPO_ROOT / "broker/systemd/hall-server.service",
    "hall-counter-terminal.service": REPO_ROOT / "firmware/counter_terminal/hall-counter-terminal.service",
    "hall-ticket-dispenser.service": REPO_ROOT / "firmware/ticket_dispenser/hall-ticket-dispenser.service",
}
PI_AGENTS = {  # unit -> (module, its config loader)
    "hall-counter-terminal.service": ("firmware.counter_terminal", terminal_config.load),
    "hall-ticket-dispenser.service": ("firmware.ticket_dispenser", dispenser_config.load),
}
VENV_PYTHON = "/opt/hall/.venv/bin/python"  # README "Deploying on real hardware", step 1
MOSQUITTO = "/usr/sbin/mosquitto"  # Debian's package


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}}: systemd repeats keys (ExecStartPre=), which
    configparser refuses; '#' and ';' start comments; no unit here continues a line."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        assert not line.endswith("\\"), f"{path}:{n}: continued lines are not expected here"
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path}:{n}: not a key=value in a section: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}= should be set once, got {values}"
    return values[0]


def header_comment(path: Path) -> str:
    return "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))


# -- systemd's own check --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_analyze_verify(name, tmp_path):
    """Every unit in one directory (they name each other in After=), the venv interpreter standing in
    for /opt/hall/.venv (which exists only once installed: verify checks that commands exist).
    verify exits 0 on an unknown key or a bad value, which it ignores with a warning: so no output
    at all is the pass. Man pages are not checked (--man=no): whether they are installed is the
    machine's business, not the unit's."""
    analyze = require_binary("systemd-analyze", "systemd")
    if name == "hall-mosquitto.service" and not Path(MOSQUITTO).is_file():
        missing(f"{name} runs {MOSQUITTO}: install Debian package mosquitto (apt-get install mosquitto)")
    for unit, path in UNITS.items():
        text = path.read_text(encoding="utf-8")
        (tmp_path / unit).write_text(text.replace(f"{VENV_PYTHON} ", f"{sys.executable} "), encoding="utf-8")
    done = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / name)],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, ""), done.stdout + done.stderr


# -- what verify cannot know -----------------------------------------------------------------------------
def test_every_unit_is_linked_from_the_readme():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for path in UNITS.values():
        assert f"({path.relative_to(REPO_ROOT)})" in readme, path


@pytest.mark.parametrize("name", sorted(UNITS))
def test_started_with_the_network_and_at_boot(name):
    unit = read_unit(UNITS[name])
    assert "network-online.target" in one(unit, "Unit", "Wants").split()
    assert "network-online.target" in one(unit, "Unit", "After").split()
    assert one(unit, "Install", "WantedBy") == "multi-user.target"
    assert float(one(unit, "Service", "RestartSec")) > 0


def test_the_broker_unit_runs_the_production_conf_and_prepares_its_directory():
    unit = read_unit(UNITS["hall-mosquitto.service"])
    conf_path = REPO_ROOT / "broker/mosquitto.conf"
    conf = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in conf_path.read_text().splitlines()
            if line.strip() and not line.startswith("#") and len(line.split(None, 1)) == 2}
    assert one(unit, "Service", "ExecStart") == f"{MOSQUITTO} -c /etc/hall/mosquitto.conf"
    assert "Install: /etc/hall/mosquitto.conf" in header_comment(conf_path)
    # no User=: Mosquitto starts as root (ports, the chown below) and drops to the conf's `user`
    assert "User" not in unit["Service"] and conf["user"] == "mosquitto"
    assert unit["Service"]["ExecStartPre"] == [f"/bin/mkdir -p {conf['persistence_location'].rstrip('/')}",
                                               f"/bin/chown {conf['user']}:{conf['user']} "
                                               f"{conf['persistence_location'].rstrip('/')}"]
    assert one(unit, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID"  # re-reads passwd and acl
    assert one(unit, "Service", "Type") == "notify"  # Debian builds Mosquitto with sd_notify
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Unit", "Conflicts") == "mosquitto.service"  # Debian's own unit wants 1883 too


def test_the_server_unit_runs_the_server_as_hall():
    unit = read_unit(UNITS["hall-server.service"])
    assert one(unit, "Service", "ExecStart") == f"{VENV_PYTHON} -m hallserver"
    assert (REPO_ROOT / "hallserver/__main__.py").is_file()
    assert one(unit, "Service", "User") == "hall"
    assert one(unit, "Service", "Restart") == "always"
    assert "hall-mosquitto.service" in one(unit, "Unit", "After").split()
    # the working directory is the state directory systemd creates for the hall user
    assert one(unit, "Service", "WorkingDirectory") == f"/var/lib/{one(unit, 'Service', 'StateDirectory')}"


def settings_env_names() -> set[str]:
    """The HALL_* names the server reads: Settings.from_env, and the few read by the process itself."""
    names = set(re.findall(r'env(?:\.get\(|\[)"(HALL_[A-Z0-9_]+)"', (REPO_ROOT / "hallserver/settings.py").read_text()))
    assert {"HALL_MQTT_URL", "HALL_DATABASE_URL", "HALL_CONFIG"} <= names  # the pattern still finds them
    for path in (REPO_ROOT / "hallserver").rglob("*.py"):
        names |= set(re.findall(r'os\.environ(?:\.get\(|\[)"(HALL_[A-Z0-9_]+)"', path.read_text(encoding="utf-8")))
    return names


def test_the_server_environment_file_holds_what_settings_reads():
    path = UNITS["hall-server.service"]
    unit = read_unit(path)
    assert one(unit, "Service", "EnvironmentFile") == "/etc/hall/hall.env"
    inline = dict(v.split("=", 1) for v in unit["Service"].get("Environment", []))
    assert all(not name.startswith("HALL_") or name in settings_env_names() for name in inline), inline
    documented = dict(re.findall(r"^#\s+(HALL_[A-Z0-9_]+)=(\S+)$", header_comment(path), re.M))
    assert documented and set(documented) <= settings_env_names(), set(documented) - settings_env_names()
    settings = Settings.from_env(documented)  # the documented hall.env is accepted as it stands
    assert settings.mqtt_url == documented["HALL_MQTT_URL"] and settings.http_host == "0.0.0.0"
    for url in re.findall(r"HALL_MQTT_URL=(\S+)", header_comment(path)):  # every URL shown, TLS one included
        MqttUrl.parse(url)


@pytest.mark.parametrize("name", sorted(PI_AGENTS))
def test_a_pi_agent_unit_runs_its_module_with_its_documented_config(name, tmp_path):
    module, load = PI_AGENTS[name]
    unit = read_unit(UNITS[name])
    exec_start = one(unit, "Service", "ExecStart")
    match = re.fullmatch(rf"{re.escape(VENV_PYTHON)} -m {re.escape(module)} --config /etc/hall/([a-z-]+)\.toml",
                         exec_start)
    assert match, exec_start
    package = REPO_ROOT / module.replace(".", "/")
    assert (package / "__main__.py").is_file()
    example = package / f"{match[1]}.example.toml"  # the file to copy to /etc/hall/
    assert example.is_file(), example
    installed = tmp_path / f"{match[1]}.toml"
    shutil.copy(example, installed)
    cfg = load(installed)
    for url in re.findall(r'"(mqtts?://[^"]+)"', example.read_text(encoding="utf-8")):  # the TLS one too
        MqttUrl.parse(url)
    assert MqttUrl.parse(cfg.broker).username == f"{cfg.hall}.{cfg.device}"  # its own login
    # the agent keeps its state where systemd makes a directory for the unit's user
    assert str(cfg.state_dir) == f"/var/lib/{one(unit, 'Service', 'StateDirectory')}"
    assert one(unit, "Service", "User") == "hall"
    assert one(unit, "Service", "Restart") == "always"
    assert one(unit, "Service", "Environment") == "PYTHONUNBUFFERED=1"
