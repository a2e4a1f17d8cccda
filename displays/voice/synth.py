"""Speech from text, offline: espeak-ng into cached WAV files, or a hall's recorded words.

Cached files are content-addressed (a hash of the text, the voice and every parameter), so a
phrase is synthesised once per machine however often it is announced, and a change of voice or
speed can never play a stale file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from displays.voice.audio import Pcm, concat, read_wav, silence

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hall-voice"


def cache_key(*parts: object) -> str:
    """A stable hash of JSON-able parts (text, voice, parameters)."""
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class SynthesisError(RuntimeError):
    pass


@dataclass(frozen=True)
class Espeak:
    """espeak-ng with one voice and its parameters; `wav(text)` is the cached WAV of `text`."""

    voice: str = "vi"
    speed: int = 140
    pitch: int = 50
    cache_dir: Path | None = None  # None: default_cache_dir()
    binary: str = "espeak-ng"

    def wav(self, text: str) -> Path:
        text = unicodedata.normalize("NFC", " ".join(text.split()))
        key = cache_key("espeak-ng", text, self.voice, self.speed, self.pitch)
        path = (self.cache_dir or default_cache_dir()) / f"espeak-{key}.wav"
        if path.exists():
            return path
        exe = shutil.which(self.binary)
        if exe is None:
            raise SynthesisError(f"{self.binary} not found: install the Debian package espeak-ng")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".wav")
        os.close(fd)
        try:
            # the text goes through stdin (-b 1: UTF-8), so a phrase starting with "-" is never an option
            cmd = [exe, "-b", "1", "-v", self.voice, "-s", str(self.speed), "-p", str(self.pitch), "-w", tmp]
            run = subprocess.run(cmd, input=text.encode(), capture_output=True, timeout=30)
            if run.returncode != 0 or os.path.getsize(tmp) <= 44:
                raise SynthesisError(f"espeak-ng failed ({run.returncode}): {run.stderr.decode(errors='replace')}")
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return path

    def speak(self, text: str, rate: int | None = None) -> Pcm:
        return read_wav(self.wav(text), rate)


_WORD = re.compile(r"[^\s,.;:!?]+|[,.;:!?]")
PUNCT_PAUSE_S = 0.25
MAX_PHRASE = 10  # words in one recorded file, e.g. "mời công dân có số thứ tự"


class Segments:
    """A folder of recorded words and phrases, one WAV each, named by what it says:
    `một.wav`, `mươi.wav`, `e-lờ.wav`, `mời công dân có số thứ tự.wav` (file names are matched
    NFC and case-insensitively, so files copied from a Mac, in NFD, work too)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.index: dict[str, Path] = {}
        for p in sorted(self.folder.glob("*.wav")) + sorted(self.folder.glob("*.WAV")):
            self.index[self._norm(p.stem)] = p
        self._pcm: dict[tuple[Path, int | None], Pcm] = {}
        # changes to the recordings (replaced or added files) must change every cache key
        self.signature = cache_key(sorted((k, p.stat().st_size, p.stat().st_mtime_ns) for k, p in self.index.items()))

    @staticmethod
    def _norm(text: str) -> str:
        return unicodedata.normalize("NFC", " ".join(text.split())).casefold()

    def plan(self, text: str) -> tuple[list[Path | None], list[str]]:
        """The files that say `text`, longest phrases first (None = a pause at punctuation), and
        the words no file covers."""
        tokens = _WORD.findall(self._norm(text))
        plan: list[Path | None] = []
        missing: list[str] = []
        i = 0
        while i < len(tokens):
            if not tokens[i][0].isalnum():
                plan.append(None)
                i += 1
                continue
            for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
                phrase = tokens[i:i + n]
                if not all(t[0].isalnum() for t in phrase):
                    continue
                path = self.index.get(" ".join(phrase))
                if path is not None:
                    plan.append(path)
                    i += n
                    break
            else:
                missing.append(tokens[i])
                i += 1
        return plan, missing

    def covers(self, text: str) -> bool:
        return not self.plan(text)[1]

    def speak(self, text: str, rate: int | None = None) -> Pcm:
        """The recordings joined, at `rate` (default: the first recording's)."""
        plan, missing = self.plan(text)
        if missing:
            raise SynthesisError(f"no recording for: {', '.join(missing)}")
        first = next((p for p in plan if p is not None), None)
        if first is None:
            raise SynthesisError("nothing to say")
        rate = rate or self._read(first, None).rate
        return concat(self._read(p, rate) if p is not None else silence(rate, PUNCT_PAUSE_S) for p in plan)

    def _read(self, path: Path, rate: int | None) -> Pcm:
        if (path, rate) not in self._pcm:
            self._pcm[path, rate] = read_wav(path, rate)
        return self._pcm[path, rate]
