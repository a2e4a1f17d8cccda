"""The installers' commands: `python -m displays.voice read ...` and `python -m displays.boards frame ...`."""

from __future__ import annotations

import wave
from pathlib import Path

from support.require import require_binary

from displays.boards.__main__ import main as boards_main
from displays.voice.__main__ import main as voice_main


def run(main, argv: list[str], capsys) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_voice_read(capsys) -> None:
    assert run(voice_main, ["read", "1023"], capsys) == "một nghìn không trăm hai mươi ba\n"
    assert run(voice_main, ["read", "1023", "--digits"], capsys) == "một, không, hai, ba\n"
    assert run(voice_main, ["read", "1023", "--digits", "--sep", " "], capsys) == "một không hai ba\n"
    assert run(voice_main, ["read", "B104"], capsys) == "bê một trăm linh tư\n"
    assert run(voice_main, ["read", "--ticket", "A023", "--counter", "5"], capsys) == (
        "Mời công dân có số thứ tự a hai mươi ba đến quầy số năm\n")
    assert run(voice_main, ["read", "--ticket", "A023", "--counter", "5", "--english"], capsys).splitlines()[1] == (
        "Ticket number A zero two three, please go to counter 5")


def test_voice_wav(tmp_path: Path, capsys) -> None:
    require_binary("espeak-ng", "espeak-ng")
    out = tmp_path / "call.wav"
    run(voice_main, ["read", "--ticket", "A023", "--counter", "5", "--wav", str(out), "--cache", str(tmp_path / "c")],
        capsys)
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050) and w.getnframes() > 22050


def test_boards_frame(capsys) -> None:
    out = run(boards_main, ["frame", "--driver", "sevenseg", "--address", "3", "B001"], capsys)
    assert out.splitlines()[0] == "02 30 33 42 30 30 31 37 30 03"
    out = run(boards_main, ["frame", "--driver", "alpha", "--address", "3", "B001"], capsys)
    assert out.splitlines()[0] == "00 00 00 00 00 01 5a 30 33 02 41 41 1b 20 62 42 30 30 31 04"
