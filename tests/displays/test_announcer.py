"""The announcer agent against a real hall server: a real call.next is announced, a recall again,
a QoS 1 duplicate of a call once."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from support.require import require_binary

import protocols
from displays.voice import AnnouncementQueue, ClipBuilder, VoiceConfig
from displays.voice.announcer import Announcer, Call


class RecordingPlayer:
    def __init__(self) -> None:
        self.played: list[Path] = []
        self.cond = threading.Condition()

    def __call__(self, clip: Path) -> None:
        with self.cond:
            self.played.append(clip)
            self.cond.notify_all()

    def wait_count(self, n: int, timeout: float = 10.0) -> list[Path]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.played) >= n, timeout), f"played {self.played}"
            return list(self.played)


@pytest.fixture
def announced(mqtt_url: str, hall_id: str, voice_cache: Path):
    require_binary("espeak-ng", "espeak-ng")
    player = RecordingPlayer()
    queued: list[Call] = []
    builder = ClipBuilder(VoiceConfig(), voice_cache)
    announcer = Announcer(mqtt_url, hall_id, builder, AnnouncementQueue(player), client_id=f"ann-{hall_id}",
                          on_queued=lambda call, clip: queued.append(call)).start()
    yield announcer, builder, player, queued
    announcer.close()


def test_announces_a_real_call_and_its_recall(server, device, announced) -> None:
    announcer, builder, player, queued = announced
    terminal, kiosk = device("ct-03"), device("kiosk-1")
    terminal.request("officer.login", {"officer": "o03", "pin": "0000"})
    number = kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})["ticket"]["number"]
    assert terminal.request("call.next")["ticket"]["number"] == number == "B001"

    first = player.wait_count(1)[0]
    assert first == builder.build("B001", 3)  # the clip of this ticket at this counter (cached: same file)
    assert builder.text("B001", 3).vi == "Mời công dân có số thứ tự bê một đến quầy số ba"
    assert (queued[0].number, queued[0].counter, queued[0].recall) == ("B001", 3, 0)

    terminal.request("call.recall")
    assert player.wait_count(2)[1] == first  # announced again, same clip
    assert queued[1].recall == 1 and queued[1].seq > queued[0].seq


def test_duplicates_and_bad_messages(mqtt_url: str, hall_id: str, announced) -> None:
    announcer, builder, player, queued = announced
    host, port = mqtt_url.removeprefix("mqtt://").split(":")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    pub.connect(host, int(port))
    pub.loop_start()
    topic = protocols.topics.calls(hall_id)
    call = {"v": 1, "seq": 41, "number": "C007", "counter": 9, "counter_name": "Quầy 9", "recall": 0,
            "at": "2026-11-23T08:15:03+07:00"}
    for payload in (call, call, {"v": 1, "seq": 42, "number": "bad number", "counter": 9}, {"v": 2},
                    dict(call, seq=43, number="C008")):  # a redelivery, junk, then a marker call
        pub.publish(topic, protocols.encode(payload), qos=1).wait_for_publish(5)
    played = player.wait_count(2)
    assert [c.number for c in queued] == ["C007", "C008"] and played[0] == builder.build("C007", 9)
    pub.disconnect()
    pub.loop_stop()
