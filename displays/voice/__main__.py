"""`python -m displays.voice`: check readings and clips, or run the announcer agent.

    python -m displays.voice read 1023                      # một nghìn không trăm hai mươi ba
    python -m displays.voice read 1023 --digits             # một, không, hai, ba
    python -m displays.voice read --ticket A023 --counter 5 # the whole announcement text
    python -m displays.voice read --ticket A023 --counter 5 --wav call.wav
    python -m displays.voice announcer --mqtt-url mqtt://demo.voice-1:SECRET@hall-server:1883 --hall demo
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from displays.numbers import read_digits, read_number, read_ticket
from displays.voice.config import ANNOUNCER_DEVICE, DEFAULT_TEMPLATE_EN, VoiceConfig


def _config(args: argparse.Namespace) -> VoiceConfig:
    cfg = VoiceConfig.from_toml(args.config) if args.config else VoiceConfig()
    if args.voice:
        cfg = replace(cfg, voice=args.voice)
    if args.repeat:
        cfg = replace(cfg, repeat=args.repeat)
    if args.english and not cfg.template_en:
        cfg = replace(cfg, template_en=DEFAULT_TEMPLATE_EN)
    if getattr(args, "digits", False):
        cfg = replace(cfg, digits=True)
    return cfg


def cmd_read(args: argparse.Namespace) -> int:
    from displays.voice.clips import ClipBuilder
    from displays.voice.synth import Espeak

    cfg = _config(args)
    if args.ticket:
        if args.counter is None:
            sys.exit("--ticket needs --counter")
        builder = ClipBuilder(cfg, args.cache)
        said = builder.text(args.ticket, args.counter)
        print(said.vi)
        if said.en:
            print(said.en)
        if args.wav:
            t0 = time.perf_counter()
            clip = builder.build(args.ticket, args.counter)
            shutil.copyfile(clip, args.wav)
            from displays.voice.audio import read_wav

            print(f"wrote {args.wav}: {read_wav(args.wav).duration:.1f} s, {builder.source(said)}, "
                  f"{time.perf_counter() - t0:.2f} s to make", file=sys.stderr)
        return 0
    if args.value is None:
        sys.exit("give a number (read 1023) or --ticket A023 --counter 5")
    value = args.value.strip().upper()
    if value.isdigit():
        text = read_digits(value, args.sep) if args.digits else read_number(int(value), cfg.style)
    else:
        text = read_ticket(value, digits=args.digits, style=cfg.style, digit_sep=args.sep,
                           sep=args.sep if args.digits else " ")
    print(text)
    if args.wav:
        shutil.copyfile(Espeak(cfg.voice, cfg.speed, cfg.pitch, args.cache).wav(text), args.wav)
        print(f"wrote {args.wav}", file=sys.stderr)
    return 0


def cmd_announcer(args: argparse.Namespace) -> int:
    from displays.voice.announcer import Announcer
    from displays.voice.clips import ClipBuilder
    from displays.voice.player import AnnouncementQueue, Aplay

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for exe, package in (("espeak-ng", "espeak-ng"), ("aplay", "alsa-utils")):
        if shutil.which(exe) is None:
            logging.warning("%s not found: install the Debian package %s", exe, package)
    builder = ClipBuilder(_config(args), args.cache)
    announcer = Announcer(args.mqtt_url, args.hall, builder, AnnouncementQueue(Aplay(args.audio_device)),
                          client_id=args.client_id, device=args.device,
                          on_queued=lambda call, clip: logging.info("queued %s -> counter %s", call.number,
                                                                    call.counter))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    announcer.start(timeout=30)
    logging.info("announcing calls of hall %s from %s", args.hall, announcer.url)
    stop.wait()
    announcer.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m displays.voice", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file with a [voice] table (e.g. the hall's configuration)")
    common.add_argument("--voice", help="espeak-ng voice: vi, vi-vn-x-central, vi-vn-x-south")
    common.add_argument("--repeat", type=int, help="times the sentence is said (default 2)")
    common.add_argument("--english", action="store_true", help="add the English sentence after the Vietnamese")
    common.add_argument("--cache", type=Path, help="clip cache folder (default ~/.cache/hall-voice)")

    r = sub.add_parser("read", parents=[common], help="print a reading or an announcement; --wav writes its clip")
    r.add_argument("value", nargs="?", help="a number (1023) or a ticket (A023)")
    r.add_argument("--digits", action="store_true", help="digit by digit")
    r.add_argument("--sep", default=", ", help="separator between digits read one by one (default ', ')")
    r.add_argument("--ticket", help="ticket number of the announcement")
    r.add_argument("--counter", type=int, help="counter number of the announcement")
    r.add_argument("--wav", type=Path, help="write the clip to this WAV file")
    r.set_defaults(func=cmd_read)

    a = sub.add_parser("announcer", parents=[common], help="say every call of a hall (Raspberry Pi + speaker)")
    a.add_argument("--mqtt-url", default=os.environ.get("HALL_MQTT_URL", "mqtt://127.0.0.1:1883"))
    a.add_argument("--hall", required=True, help="hall id, e.g. demo")
    a.add_argument("--audio-device", help="ALSA device for aplay -D, e.g. plughw:1,0")
    a.add_argument("--device", default=ANNOUNCER_DEVICE,
                   help=f"its device id, a screen of the hall configuration (default {ANNOUNCER_DEVICE}); "
                        "login {hall}.{device} unless the URL names a user")
    a.add_argument("--client-id", help="MQTT client id (default announcer-HALL-HOSTNAME)")
    a.set_defaults(func=cmd_announcer)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
