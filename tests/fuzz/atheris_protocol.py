"""Coverage-guided fuzzing of the protocol's decoders with atheris (libFuzzer over Python bytecode).

hypothesis (test_fuzz_mqtt.py) sends hostile messages built from what we thought of; atheris
mutates bytes toward new branches of `protocols/` on its own. The properties, on any bytes:
- every parser (`parse_up`, `parse_down`, `parse_status`, `parse_object`, `decode`) returns a dict or
  raises ProtocolError with a known error code, never anything else;
- a message `parse_up` accepts has a valid id and a known type, and `allowed()` answers for every kind;
- `topics.parse` of any text raises ProtocolError or returns parts that rebuild the same topic.

Run it by hand (a crash writes crash-<sha1> with the input; add it to tests/protocol/vectors.json):
    .venv/bin/python tests/fuzz/atheris_protocol.py -runs=1000000 -max_total_time=600 [corpus-dir]
tests/fuzz/test_fuzz_atheris.py runs it bounded in the suite, seeded with the protocol test vectors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["protocols"]):
    import protocols
    from protocols import topics
    from protocols.errors import MESSAGES, ProtocolError

PARSERS = (protocols.parse_up, protocols.parse_down, protocols.parse_status, protocols.parse_object,
           lambda payload: protocols.decode(payload, protocols.MAX_BOARD))


def check_topic(text: str) -> None:
    try:
        hall, device, leaf = topics.parse(text)
    except ProtocolError as exc:
        assert exc.code in MESSAGES, exc.code
        return
    if device is not None:
        rebuilt = topics.device_topic(hall, device, leaf)
    else:
        rebuilt = {"calls": topics.calls, "board": topics.board, "server/status": topics.server_status}[leaf](hall)
    assert rebuilt == text, (text, rebuilt)


def one_input(data: bytes) -> None:
    for parse in PARSERS:
        try:
            obj = parse(data)
        except ProtocolError as exc:
            assert exc.code in MESSAGES, exc.code
            continue
        assert isinstance(obj, dict)
    try:
        msg = protocols.parse_up(data)
    except ProtocolError:
        pass
    else:
        assert protocols.is_valid_id(msg["id"]) and msg["t"] in protocols.TYPES, msg
        assert any(protocols.allowed(kind, msg["t"]) for kind in protocols.KINDS), msg
    check_topic(data.decode("utf-8", "replace"))


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
