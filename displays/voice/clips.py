"""One call -> one WAV clip: chime, then the sentence(s) repeated, made once and cached.

The Vietnamese sentence comes from the hall's recorded segments when they cover every word (the
preferred, natural-sounding option), else from espeak-ng; the optional English sentence always
from espeak-ng. Whole clips are cached under a hash of everything that shapes them, so a recall
replays the same file without any work.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from displays.voice.audio import Pcm, chime, concat, silence, write_wav
from displays.voice.config import Spoken, VoiceConfig, spoken
from displays.voice.synth import Espeak, Segments, cache_key, default_cache_dir

log = logging.getLogger(__name__)
LEAD_S = 0.3  # after the chime
BETWEEN_LANGUAGES_S = 0.5
MAX_CLIP_S = 60.0  # a bound the tests hold clips to; a real call is 8-15 s


@lru_cache(maxsize=4)
def _chime(rate: int) -> Pcm:
    return chime(rate)


class ClipBuilder:
    """Builds (or finds in the cache) the clip for a call. Thread-safe: one build at a time."""

    def __init__(self, cfg: VoiceConfig | None = None, cache_dir: Path | None = None, espeak_binary: str = "espeak-ng"):
        self.cfg = cfg or VoiceConfig()
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.vi = Espeak(self.cfg.voice, self.cfg.speed, self.cfg.pitch, self.cache_dir, espeak_binary)
        self.en = Espeak(self.cfg.voice_en, self.cfg.speed, self.cfg.pitch, self.cache_dir, espeak_binary)
        self.segments = Segments(self.cfg.segments) if self.cfg.segments else None
        self._lock = threading.Lock()

    def text(self, ticket: str, counter: int) -> Spoken:
        return spoken(ticket, counter, self.cfg)

    def source(self, said: Spoken) -> str:
        """"segments" when the hall's recordings cover the Vietnamese sentence, else "espeak"."""
        if self.segments is not None and self.segments.covers(said.vi):
            return "segments"
        return "espeak"

    def build(self, ticket: str, counter: int) -> Path:
        said = self.text(ticket, counter)
        src = self.source(said)
        cfg = self.cfg
        key = cache_key("clip", said.vi, said.en, src, self.segments.signature if src == "segments" else None,
                        cfg.voice, cfg.voice_en, cfg.speed, cfg.pitch, cfg.repeat, cfg.chime, cfg.gap_s)
        path = self.cache_dir / f"clip-{key}.wav"
        with self._lock:
            if not path.exists():
                write_wav(path, self._render(said, src))
        return path

    def _render(self, said: Spoken, src: str) -> Pcm:
        if src == "segments":
            assert self.segments is not None
            vi = self.segments.speak(said.vi)
        else:
            if self.segments is not None:
                log.warning("recorded segments miss %s: using espeak-ng", ", ".join(self.segments.plan(said.vi)[1]))
            vi = self.vi.speak(said.vi)
        rate = vi.rate
        sentence = [vi]
        if said.en:
            sentence += [silence(rate, BETWEEN_LANGUAGES_S), self.en.speak(said.en, rate)]
        parts = [_chime(rate), silence(rate, LEAD_S)] if self.cfg.chime else []
        for i in range(self.cfg.repeat):
            if i:
                parts.append(silence(rate, self.cfg.gap_s))
            parts += sentence
        return concat(parts)
