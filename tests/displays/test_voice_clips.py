"""Announcement text and clips: the WAV exists, has the expected format, grows with the text and
stays under a bound; recorded segments are preferred when they cover the sentence; clips are cached."""

from __future__ import annotations

import time
import wave
from array import array
from pathlib import Path

import pytest
from support.require import require_binary

from displays.voice import ClipBuilder, VoiceConfig, spoken
from displays.voice.audio import Pcm, chime, concat, read_wav, resample, silence, tone, write_wav
from displays.voice.clips import MAX_CLIP_S
from displays.voice.config import DEFAULT_TEMPLATE_EN
from displays.voice.synth import Segments


@pytest.fixture
def espeak() -> str:
    return require_binary("espeak-ng", "espeak-ng")


def params(path: Path) -> tuple[int, int, int, str]:
    with wave.open(str(path)) as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()


def duration(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def test_spoken_text() -> None:
    cfg = VoiceConfig()
    assert spoken("A023", 5, cfg).vi == "Mời công dân có số thứ tự a hai mươi ba đến quầy số năm"
    assert spoken("1023", 15, cfg).vi == ("Mời công dân có số thứ tự một nghìn không trăm hai mươi ba "
                                          "đến quầy số mười lăm")
    both = spoken("B104", 21, VoiceConfig(template_en=DEFAULT_TEMPLATE_EN, digits=True))
    assert both.vi == "Mời công dân có số thứ tự bê, một, không, bốn đến quầy số hai mươi mốt"
    assert both.en == "Ticket number B one zero four, please go to counter 21"
    custom = VoiceConfig.from_dict({"template": "Mời khách hàng số {số} đến quầy {quầy}", "linh": "lẻ", "four": "bốn"})
    assert spoken("A104", 4, custom).vi == "Mời khách hàng số a một trăm lẻ bốn đến quầy bốn"
    with pytest.raises(KeyError):
        VoiceConfig(template="Mời số {ticket_number}")
    with pytest.raises(ValueError):
        VoiceConfig.from_dict({"repeats": 2})
    with pytest.raises(ValueError):
        VoiceConfig(repeat=0)


def test_toml_config(tmp_path: Path) -> None:
    path = tmp_path / "hall.toml"
    path.write_text('[hall]\nid = "x"\n[voice]\nrepeat = 3\nvoice = "vi-vn-x-south"\nthousand = "ngàn"\n'
                    'template_en = "Number {number} to counter {counter}"\n', encoding="utf-8")
    cfg = VoiceConfig.from_toml(path)
    assert (cfg.repeat, cfg.voice, cfg.style.thousand) == (3, "vi-vn-x-south", "ngàn")
    assert spoken("A1", 2000, cfg).vi.endswith("hai ngàn")


def test_audio_helpers(tmp_path: Path) -> None:
    ding = chime(22050)
    assert 1.0 < ding.duration < 1.5 and max(ding.samples) > 5000
    stereo8 = tmp_path / "s8.wav"
    with wave.open(str(stereo8), "wb") as w:  # 8-bit stereo at 8 kHz: converted on reading
        w.setnchannels(2)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes([128, 128, 255, 255, 0, 0] * 800))
    pcm = read_wav(stereo8)
    assert pcm.rate == 8000 and len(pcm.samples) == 2400 and pcm.samples[:3].tolist() == [0, 127 << 8, -128 << 8]
    up = read_wav(stereo8, 16000)
    assert up.rate == 16000 and len(up.samples) == 4800
    assert len(resample(tone(44100, 440, 1.0), 22050).samples) == 22050
    out = write_wav(tmp_path / "j.wav", concat([silence(8000, 0.5), pcm]))
    assert params(out) == (1, 2, 8000, "NONE") and duration(out) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        concat([silence(8000, 0.1), silence(16000, 0.1)])


def test_espeak_clip(espeak: str, voice_cache: Path, capsys) -> None:
    builder = ClipBuilder(VoiceConfig(), voice_cache)
    t0 = time.perf_counter()
    clip = builder.build("A023", 5)
    made_in = time.perf_counter() - t0
    assert clip.exists() and params(clip) == (1, 2, 22050, "NONE")
    assert builder.source(builder.text("A023", 5)) == "espeak"
    short = duration(clip)
    assert 3.0 < short < MAX_CLIP_S
    # a longer text, an English sentence, more repeats: each makes a longer clip, all under the bound
    longer = duration(builder.build("B1023", 37))
    english = duration(ClipBuilder(VoiceConfig(template_en=DEFAULT_TEMPLATE_EN), voice_cache).build("A023", 5))
    thrice = duration(ClipBuilder(VoiceConfig(repeat=3), voice_cache).build("A023", 5))
    once = duration(ClipBuilder(VoiceConfig(repeat=1), voice_cache).build("A023", 5))
    assert once < short < thrice < MAX_CLIP_S and short < longer < MAX_CLIP_S and short < english < MAX_CLIP_S
    # made once: the same call is the same file, untouched
    mtime = clip.stat().st_mtime_ns
    t0 = time.perf_counter()
    assert builder.build("A023", 5) == clip and clip.stat().st_mtime_ns == mtime
    cached_in = time.perf_counter() - t0
    for voice in ("vi-vn-x-central", "vi-vn-x-south"):
        other = ClipBuilder(VoiceConfig(voice=voice), voice_cache).build("A023", 5)
        assert other != clip and params(other) == (1, 2, 22050, "NONE")
    with capsys.disabled():
        print(f"\n[voice] new clip A023/5: {made_in * 1000:.0f} ms ({short:.1f} s of audio); cached: "
              f"{cached_in * 1000:.1f} ms")
    assert made_in < 5.0


def _record_words(folder: Path, words: set[str], rate: int = 16000) -> None:
    """Fake recordings: one tone per word (stereo, as a studio might deliver), 0.3 s each."""
    folder.mkdir()
    for i, word in enumerate(sorted(words)):
        pcm = tone(rate, 300 + 20 * i, 0.3)
        stereo = array("h", (s for x in pcm.samples for s in (x, x)))
        with wave.open(str(folder / f"{word}.wav"), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(stereo.tobytes())


def test_recorded_segments_are_preferred(tmp_path: Path, voice_cache: Path) -> None:
    folder = tmp_path / "voice"
    phrase = "mời công dân có số thứ tự"
    _record_words(folder, {phrase, "đến", "quầy", "số", "a", "bê", "hai", "mươi", "ba", "năm", "mốt"})
    cfg = VoiceConfig(segments=folder, repeat=2)
    builder = ClipBuilder(cfg, voice_cache, espeak_binary="espeak-ng-not-installed")  # must not be needed
    said = builder.text("A023", 5)
    plan, missing = Segments(folder).plan(said.vi)
    assert not missing and plan[0] is not None and plan[0].stem == phrase  # the longest phrase wins
    assert builder.source(said) == "segments"
    clip = builder.build("A023", 5)
    assert params(clip) == (1, 2, 16000, "NONE")  # the recordings' rate, mono
    words = len(plan)  # "<phrase> a hai mươi ba đến quầy số năm" = 9 files
    assert words == 9
    expected = chime(16000).duration + 0.3 + 2 * words * 0.3 + cfg.gap_s
    assert duration(clip) == pytest.approx(expected, abs=0.01)
    # a word nobody recorded ("bốn"): the sentence comes from espeak-ng instead
    assert builder.source(builder.text("A024", 5)) == "espeak"


def test_segments_names_are_matched_nfc(tmp_path: Path) -> None:
    import unicodedata

    folder = tmp_path / "v"
    folder.mkdir()
    write_wav(folder / (unicodedata.normalize("NFD", "Mười") + ".wav"), Pcm(8000, array("h", [1] * 80)))
    write_wav(folder / "lăm.wav", Pcm(8000, array("h", [2] * 80)))
    seg = Segments(folder)
    assert seg.covers("mười lăm") and not seg.covers("mười một")
    assert seg.speak("mười, lăm").duration == pytest.approx(0.01 + 0.25 + 0.01)
