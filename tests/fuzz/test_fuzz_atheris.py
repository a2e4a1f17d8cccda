"""A bounded atheris run over the protocol's decoders (the harness and its properties:
atheris_protocol.py), seeded with every payload and topic of the protocol test vectors.

libFuzzer ends the process when it is done, so the harness runs in a subprocess; a failing
property or an unexpected exception makes it exit non-zero with the input saved under tmp_path.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.require import REPO_ROOT, missing

HARNESS = Path(__file__).with_name("atheris_protocol.py")
VECTORS = REPO_ROOT / "tests" / "protocol" / "vectors.json"
RUNS = 200_000  # about 10 s on 2 cores; -max_total_time bounds it on a slower machine


def seeds(directory: Path) -> int:
    """One file per test vector: its payload (bytes as given) or its topic."""
    directory.mkdir()
    count = 0
    for i, vector in enumerate(json.loads(VECTORS.read_text(encoding="utf-8"))):
        if "payload_hex" in vector:
            data = bytes.fromhex(vector["payload_hex"])
        else:
            value = vector.get("payload", vector.get("topic"))
            text = value if isinstance(value, str) else json.dumps(value)
            data = text.encode("utf-8", "surrogatepass")
        (directory / f"vector-{i:03d}").write_bytes(data)
        count += 1
    return count


@pytest.mark.slow
def test_atheris_finds_nothing_in_the_protocol_decoders(tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:
        missing("atheris is not installed: .venv/bin/pip install atheris (wheels for Linux x86_64)")
    corpus = tmp_path / "corpus"
    assert seeds(corpus) > 200
    done = subprocess.run(
        [sys.executable, str(HARNESS), f"-runs={RUNS}", "-max_total_time=45", "-rss_limit_mb=1024",
         "-max_len=4096", f"-artifact_prefix={tmp_path}/", "-print_final_stats=1", str(corpus)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"atheris found a failing input (saved in {tmp_path}):\n{output[-4000:]}"
    assert "Done " in output and "stat::number_of_executed_units" in output, output[-2000:]
    runs = int(output.split("stat::number_of_executed_units:")[1].split()[0])
    assert runs >= 10_000, f"only {runs} inputs in the time allowed"
    print(f"\natheris: {runs} inputs over the protocol decoders, no failure")
