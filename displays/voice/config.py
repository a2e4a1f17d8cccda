"""A hall's announcement settings and the spoken text of a call.

Settings come from a `[voice]` table in TOML: the hall's own configuration file can carry it (the
hall server ignores tables it does not know) or a separate file. Example:

    [voice]
    template = "Mời công dân có số thứ tự {so} đến quầy số {quay}"
    template_en = "Ticket number {number}, please go to counter {counter}"   # optional
    repeat = 2
    digits = false            # true: "a, không, hai, ba" instead of "a hai mươi ba"
    voice = "vi"              # espeak-ng voice: vi, vi-vn-x-central, vi-vn-x-south
    speed = 140               # words per minute (espeak-ng -s)
    segments = "/etc/hall/voice"   # recorded words, preferred when they cover the text
    four = "tư"               # or "bốn";  linh = "linh" or "lẻ";  thousand = "nghìn" or "ngàn"

Vietnamese templates take {so} (or {số}) for the ticket and {quay} (or {quầy}) for the counter, both
as spoken words; the English one takes {number} and {counter}.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from displays.numbers import STANDARD, Style, read_number, read_ticket

DEFAULT_TEMPLATE = "Mời công dân có số thứ tự {so} đến quầy số {quay}"
DEFAULT_TEMPLATE_EN = "Ticket number {number}, please go to counter {counter}"
# the announcer's device id: a `screen` of the hall configuration, login {hall}.voice-1
ANNOUNCER_DEVICE = "voice-1"
ENGLISH_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class VoiceConfig:
    template: str = DEFAULT_TEMPLATE
    template_en: str | None = None
    repeat: int = 2
    digits: bool = False  # read the ticket's digits one by one
    voice: str = "vi"
    voice_en: str = "en"
    speed: int = 140
    pitch: int = 50
    segments: Path | None = None
    chime: bool = True
    gap_s: float = 0.7  # silence between repeats
    style: Style = field(default=STANDARD)

    def __post_init__(self) -> None:
        if not 1 <= self.repeat <= 5:
            raise ValueError(f"voice.repeat must be 1..5, got {self.repeat}")
        spoken("A001", 1, self)  # a template with an unknown {field} fails now, not at the first call

    @classmethod
    def from_toml(cls, path: Path | str) -> VoiceConfig:
        with open(path, "rb") as f:
            return cls.from_dict(tomllib.load(f).get("voice", {}))

    @classmethod
    def from_dict(cls, raw: dict) -> VoiceConfig:
        style_keys = {f.name for f in fields(Style)}
        own = {f.name for f in fields(cls)} - {"style"}
        unknown = set(raw) - own - style_keys
        if unknown:
            raise ValueError(f"unknown [voice] keys: {', '.join(sorted(unknown))}")
        kw = {k: v for k, v in raw.items() if k in own}
        if kw.get("segments"):
            kw["segments"] = Path(kw["segments"])
        style = replace(STANDARD, **{k: v for k, v in raw.items() if k in style_keys})
        return cls(**kw, style=style)


@dataclass(frozen=True)
class Spoken:
    """What is said for one call: the Vietnamese sentence and, optionally, the English one."""

    vi: str
    en: str | None


def english_ticket(number: str) -> str:
    """English speech for a ticket, character by character: "A023" -> "A zero two three"."""
    return " ".join(ENGLISH_DIGITS[int(c)] if c.isdigit() else c for c in number.upper())


def spoken(ticket: str, counter: int, cfg: VoiceConfig) -> Spoken:
    """The sentences to speak, numbers spelled out (espeak-ng reads "A023" badly)."""
    so = read_ticket(ticket, digits=cfg.digits, style=cfg.style, digit_sep=", ", sep=", " if cfg.digits else " ")
    quay = read_number(counter, cfg.style)
    vi = unicodedata.normalize("NFC", cfg.template).format_map({"so": so, "số": so, "quay": quay, "quầy": quay})
    en = None
    if cfg.template_en:
        en = cfg.template_en.format_map({"number": english_ticket(ticket), "counter": counter})
    return Spoken(unicodedata.normalize("NFC", vi), en)
