"""16-bit mono PCM clips and WAV files with the standard library only (`wave`, `array`).

Why not numpy or sox: the announcer runs on a Raspberry Pi, and joining a chime, synthesised
phrases and recorded segments needs nothing more than reading, converting and concatenating PCM.
Every clip is converted to one format (16-bit signed mono at the first part's rate), so `aplay`
and browsers play the concatenation as one file.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import wave
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

WIDTH = 2  # bytes per sample: 16-bit signed little-endian, as espeak-ng writes


@dataclass(frozen=True)
class Pcm:
    """Mono 16-bit samples at `rate` Hz."""

    rate: int
    samples: array  # array("h")

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def _to_host(data: bytes) -> array:
    a = array("h")
    a.frombytes(data)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def _to_16bit(data: bytes, width: int) -> array:
    if width == 2:
        return _to_host(data)
    if width == 1:  # unsigned 8-bit
        return array("h", ((b - 128) << 8 for b in data))
    if width in (3, 4):  # keep the two most significant bytes of each little-endian sample
        return _to_host(b"".join(data[i + width - 2:i + width] for i in range(0, len(data), width)))
    raise ValueError(f"unsupported sample width {width}")


def read_wav(path: Path | str, rate: int | None = None) -> Pcm:
    """A PCM WAV file as 16-bit mono (channels averaged), resampled to `rate` when given."""
    with wave.open(str(path), "rb") as w:
        channels, width, src_rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        samples = _to_16bit(w.readframes(w.getnframes()), width)
    if channels > 1:
        samples = array("h", (sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)))
    pcm = Pcm(src_rate, samples)
    return resample(pcm, rate) if rate and rate != src_rate else pcm


def write_wav(path: Path | str, pcm: Pcm) -> Path:
    """Write atomically (temporary file, then rename): a reader never sees half a clip."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = array("h", pcm.samples)
    if sys.byteorder == "big":
        samples.byteswap()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".wav")
    try:
        with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(WIDTH)
            w.setframerate(pcm.rate)
            w.writeframes(samples.tobytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def resample(pcm: Pcm, rate: int) -> Pcm:
    """Linear interpolation: plenty for speech through a hall's loudspeakers."""
    if rate == pcm.rate or not pcm.samples:
        return Pcm(rate, array("h", pcm.samples))
    src, n_out = pcm.samples, max(1, round(len(pcm.samples) * rate / pcm.rate))
    step, last = pcm.rate / rate, len(src) - 1
    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        x = i * step
        j = int(x)
        if j >= last:
            out[i] = src[last]
        else:
            out[i] = int(src[j] + (src[j + 1] - src[j]) * (x - j))
    return Pcm(rate, out)


def silence(rate: int, seconds: float) -> Pcm:
    return Pcm(rate, array("h", bytes(2 * round(rate * seconds))))


def concat(parts: Iterable[Pcm]) -> Pcm:
    """Join clips of one rate (convert with `resample` first)."""
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to join")
    rate = parts[0].rate
    out = array("h")
    for p in parts:
        if p.rate != rate:
            raise ValueError(f"cannot join {p.rate} Hz to {rate} Hz: resample first")
        out.extend(p.samples)
    return Pcm(rate, out)


def tone(rate: int, freq: float, seconds: float, volume: float = 0.4, decay: float = 4.0) -> Pcm:
    """A bell-like note: a sine with a quieter octave, a 5 ms attack and an exponential decay."""
    n = round(rate * seconds)
    attack = max(1, round(rate * 0.005))
    w, w2 = 2 * math.pi * freq / rate, 4 * math.pi * freq / rate
    peak = 32767 * volume
    out = array("h", bytes(2 * n))
    for i in range(n):
        env = min(1.0, i / attack) * math.exp(-decay * i / rate)
        out[i] = int(peak * env * (0.8 * math.sin(w * i) + 0.2 * math.sin(w2 * i)))
    return Pcm(rate, out)


def chime(rate: int, notes: Iterable[tuple[float, float]] = ((659.25, 0.45), (523.25, 0.8)),
          volume: float = 0.4) -> Pcm:
    """The "ding-dong" before an announcement (E5 then C5 by default), generated, not downloaded."""
    return concat(tone(rate, f, s, volume) for f, s in notes)
