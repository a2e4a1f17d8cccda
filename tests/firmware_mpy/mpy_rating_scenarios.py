"""Scripted rating-button scenarios: button presses, retained states, replies, outages and power
cuts fed with the time passed in, on the real logic, link and flash queue over a fake broker.

MicroPython subset: test_mpy_rating.py runs this file under the MicroPython WebAssembly port and under
CPython, and asserts on the JSON-able dict each scenario returns.
"""

import json
import os

import rating
from mpy_fakes import FakeBroker
from mpyrt import ticks
from mpyrt.backoff import Backoff
from mpyrt.ids import Ids
from mpyrt.link import Link
from mpyrt.outbox import Outbox

from protocols import topics

HALL = "demo"
DEV = "rb-05"
UP = topics.up(HALL, DEV)
DOWN = topics.down(HALL, DEV)
STATE = topics.state(HALL, DEV)
STATUS = topics.status(HALL, DEV)
SERVER = topics.server_status(HALL)
LEVELS = [
    {"key": "rat-hai-long", "label": "Rất hài lòng"},
    {"key": "hai-long", "label": "Hài lòng"},
    {"key": "khong-hai-long", "label": "Không hài lòng"},
]
REASONS = [
    {"key": "thai-do", "label": "Thái độ"},
    {"key": "thoi-gian-cho", "label": "Thời gian chờ"},
    {"key": "huong-dan", "label": "Hướng dẫn"},
    {"key": "khac", "label": "Khác"},
]
# button indexes: levels 0..2, reasons 3..6
GOOD, OK, BAD = 0, 1, 2
R_WAIT = 4  # "thoi-gian-cho"


def state(ticket="A001", armed=True, expires="2026-11-23T08:27:40+07:00"):
    return {"v": 1, "kind": "rating", "counter": 5, "armed": armed, "ticket": ticket if armed else None,
            "officer": "o05" if armed else None, "expires_at": expires if armed else None,
            "levels": LEVELS, "reasons": REASONS}


class Rig:
    """A rating button (3 levels, 4 reasons) with its flash files under `base`, on a fake broker."""

    def __init__(self, base, t=1000, broker=None, wifi=None, limit=32):
        self.base = base
        self.broker = broker if broker is not None else FakeBroker()
        self.outbox = Outbox(base + "/votes.json", limit)
        self.ids = Ids(base + "/boot.count", "s")
        self.app = rating.RatingButton(self.outbox, self.ids, 3, 4, reason_ms=10000, thanks_ms=3000)
        self.link = Link(HALL, DEV, self.broker.make_client, wifi, rating.VERSION, 30, Backoff(1000, 60000),
                         True, outbox=self.outbox)
        self.link.on_state = self.app.on_state
        self.link.on_reply = self.app.on_reply
        self.link.on_change = self.app.on_link
        self.t0 = t
        self.t = t
        self.raw = [False] * 7
        self.sends = []  # (ms since start, id) of every vote published
        self.attempts = []  # ms since start of every connection attempt
        self._seen = 0

    def ms(self):
        return ticks.diff(self.t, self.t0)

    def step(self):
        self.app.sample(self.raw, self.t)
        before = self.broker.attempts
        self.link.step(self.t)
        if self.broker.attempts != before:
            self.attempts.append(self.ms())
        self.app.tick(self.t)
        log = self.broker.log
        while self._seen < len(log):
            topic, text, _retain, _qos = log[self._seen]
            if topic == UP:
                self.sends.append((self.ms(), json.loads(text)["id"]))
            self._seen += 1

    def run(self, ms, dt=10):
        end = ticks.add(self.t, ms)
        while ticks.diff(end, self.t) > 0:
            self.step()
            self.t = ticks.add(self.t, dt)

    def press(self, i, hold=60):
        self.raw[i] = True
        self.run(hold)
        self.raw[i] = False
        self.run(40)

    def leds(self):
        levels, reasons = self.app.leds(self.t)
        return "".join(["1" if x else "0" for x in levels]) + "/" + "".join(["1" if x else "0" for x in reasons])

    def votes(self):
        return self.broker.sent(UP)

    def distinct(self):
        ids = []
        for vote in self.votes():
            if vote["id"] not in ids:
                ids.append(vote["id"])
        return ids

    def reply(self, vote, ok=True, code=None):
        r = {"v": 1, "re": vote["id"], "ok": ok}
        if ok:
            r["rating"] = {"ticket": vote.get("ticket"), "score": vote["score"]}
        else:
            r["error"] = {"code": code, "message": "..."}
        self.broker.publish(DOWN, r)
        self.run(30)

    def flash(self):
        with open(self.base + "/votes.json") as f:
            return json.loads(f.read())


def _strip(vote):
    out = {}
    for key in vote:
        if key != "id":
            out[key] = vote[key]
    return out


# ---------------------------------------------------------------------------------- scenarios
def armed_vote(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    idle = rig.leds()
    rig.run(50)
    armed = rig.leds()
    rig.press(GOOD)
    queued = len(rig.outbox)
    on_flash = [m["id"] for m in rig.flash()["items"]]
    thanks = []
    for _ in range(6):
        thanks.append(rig.leds())
        rig.run(250)
    vote = rig.votes()[0]
    rig.reply(vote)
    after_reply = len(rig.outbox)
    rig.broker.publish(STATE, state(armed=False), retain=True)
    rig.run(3000)
    return {"idle": idle, "armed": armed, "vote": _strip(vote), "id": vote["id"], "queued": queued,
            "on_flash": on_flash, "thanks": thanks, "after_reply": after_reply,
            "flash_after_reply": len(rig.flash()["items"]), "accepted": rig.app.counts["accepted"],
            "final_mode": rig.app.mode, "final": rig.leds(), "published": len(rig.distinct())}


def bounce(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.raw[OK] = True  # a 10 ms glitch (one sample): not a press
    rig.run(10)
    rig.raw[OK] = False
    rig.run(100)
    after_glitch = len(rig.distinct())
    for level in (1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0):  # a bouncing contact, 10 ms apart
        rig.raw[OK] = bool(level)
        rig.run(10)
    rig.run(200)
    return {"after_glitch": after_glitch, "after_bounce": len(rig.distinct()),
            "score": rig.votes()[0]["score"] if rig.votes() else None}


def not_armed(base):
    rig = Rig(base)
    rig.run(50)
    rig.press(GOOD)  # no state yet
    rig.broker.publish(STATE, state(armed=False), retain=True)
    rig.run(50)
    rig.press(GOOD)
    rig.press(BAD)
    rig.press(R_WAIT)
    return {"votes": len(rig.votes()), "leds": rig.leds(), "mode": rig.app.mode,
            "ignored": rig.app.counts["ignored"], "queued": len(rig.outbox)}


def one_vote_per_ticket(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state("A001"), retain=True)
    rig.run(50)
    rig.press(GOOD)
    rig.run(3100)  # thanks over; the server has not answered yet, the state still says armed
    mode_same = rig.app.mode
    rig.press(OK)
    rig.press(GOOD)
    distinct_after = len(rig.distinct())
    rig.reply(rig.votes()[0])
    rig.broker.publish(STATE, state("A002", expires="2026-11-23T08:40:00+07:00"), retain=True)
    rig.run(50)
    mode_next = rig.app.mode
    rig.press(OK)
    second = _strip(rig.votes()[-1])
    rig.reply(rig.votes()[-1])
    rig.run(3100)
    # the next day the numbers start again: A001 is another citizen
    rig.broker.publish(STATE, state("A001", expires="2026-11-24T08:10:00+07:00"), retain=True)
    rig.run(50)
    return {"mode_same_ticket": mode_same, "distinct_after_repress": distinct_after, "mode_next": mode_next,
            "second": second, "next_day_mode": rig.app.mode, "votes": rig.app.counts["votes"]}


def reason_chosen(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.press(BAD)
    mode = rig.app.mode
    leds = rig.leds()
    queued = len(rig.outbox)
    rig.run(2000)
    rig.press(R_WAIT)
    vote = rig.votes()[0]
    return {"mode": mode, "leds": leds, "queued_before_reason": queued, "vote": _strip(vote),
            "thanks": rig.leds(), "after_mode": rig.app.mode}


def reason_window_expires(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.press(BAD)  # pressed at 50 ms, counted at 80 ms (30 ms debounce)
    rig.run(9000)
    before = len(rig.votes())
    leds_before = rig.leds()
    rig.run(1100)
    vote = rig.votes()[0]
    return {"votes_at_9s": before, "leds_at_9s": leds_before, "vote": _strip(vote), "sent_at": rig.sends[0][0],
            "reason_leds_after": rig.leds().split("/")[1]}


def reason_changed_mind(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.press(BAD)
    rig.press(GOOD)
    return {"votes": [_strip(v) for v in rig.votes()]}


def reason_disarmed(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.press(BAD)
    rig.broker.publish(STATE, state(armed=False), retain=True)  # the rating window closed meanwhile
    rig.run(50)
    rig.press(R_WAIT)  # too late for a reason
    return {"votes": [_strip(v) for v in rig.votes()], "mode": rig.app.mode}


def offline_vote(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    online_status = json.loads(rig.broker.retained[STATUS])
    rig.broker.crash()
    rig.run(100)
    will = json.loads(rig.broker.retained[STATUS])
    status_led = []
    for _ in range(4):
        status_led.append(rig.app.status_led(rig.t))
        rig.run(500)
    rig.press(GOOD)
    queued = len(rig.outbox)
    sent_offline = len(rig.votes())
    thanks = rig.leds()
    rig.run(2000)
    rig.broker.up = True
    rig.run(5000)
    vote = rig.votes()[0]
    rig.reply(vote)
    return {"online_status": online_status, "will": will, "status_led_offline": status_led,
            "queued_offline": queued, "sent_offline": sent_offline, "thanks": thanks,
            "vote": _strip(vote), "sent": len(rig.distinct()), "after_reply": len(rig.outbox),
            "status_after": json.loads(rig.broker.retained[STATUS]), "status_led_online": rig.app.status_led(rig.t)}


def power_cut_in_run(base):
    """The device loses power right after the LEDs thanked the citizen, offline; it comes back
    (new objects, same flash files), still sees the same armed state, and delivers the vote."""
    broker = FakeBroker()
    rig = Rig(base, broker=broker)
    broker.publish(STATE, state(), retain=True)
    rig.run(50)
    broker.crash()
    rig.run(50)
    rig.press(GOOD)
    voted_id = rig.outbox.items[0]["id"]
    del rig  # power cut: nothing in RAM survives
    broker.up = True
    rig = Rig(base, t=5000, broker=broker)
    restored = [m["id"] for m in rig.outbox.items]
    rig.run(50)
    mode = rig.app.mode
    rig.press(GOOD)
    rig.press(OK)
    sent = rig.distinct()
    rig.reply(rig.votes()[0])
    return {"voted_id": voted_id, "restored": restored, "boot": rig.ids.boot, "mode_after_boot": mode,
            "sent": sent, "after_reply": len(rig.outbox)}


def resend_schedule(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.press(GOOD)
    first = rig.sends[0][0]
    rig.run(70000, 50)
    times = [s[0] - first for s in rig.sends]
    rig.broker.crash()
    rig.run(100)
    rig.broker.up = True
    crash_at = rig.ms()
    rig.run(3000)
    after = [s[0] - crash_at for s in rig.sends[len(times):]]
    ids = []
    for s in rig.sends:
        if s[1] not in ids:
            ids.append(s[1])
    return {"times": times, "after_reconnect": after, "ids": len(ids)}


def backoff_schedule(base):
    rig = Rig(base)
    rig.broker.up = False
    rig.run(130000, 100)
    attempts = list(rig.attempts)
    rig.broker.up = True
    rig.run(60000, 100)
    connected_at = rig.attempts[-1]
    up = rig.link.up
    rig.broker.crash()
    dropped_at = rig.ms()
    rig.broker.up = True
    rig.run(3000, 100)
    return {"attempts": attempts, "connected": up, "connected_at": connected_at,
            "retry_after_drop": rig.attempts[-1] - dropped_at, "connects": rig.link.stats["connects"]}


def link_session(base):
    rig = Rig(base)
    rig.broker.publish(SERVER, {"v": 1, "online": True}, retain=True)
    rig.run(50)
    cid, clean, will = rig.broker.connects[0]
    first = rig.broker.log[0]
    subs = rig.broker.client.subs
    ok_online = rig.link.ok()
    rig.broker.publish(SERVER, {"v": 1, "online": False}, retain=True)
    rig.run(50)
    ok_server_down = [rig.link.ok(), rig.app.link_ok]
    rig.broker.publish(SERVER, {"v": 1, "online": True}, retain=True)
    rig.run(50)
    return {"clean_session": clean, "will": [will[0], json.loads(will[1]), will[2], will[3]],
            "first_publish": [first[0], json.loads(first[1]), first[2], first[3]],
            "subs": sorted([[t, subs[t]] for t in subs]), "ok": ok_online, "server_down": ok_server_down,
            "server_back": [rig.link.ok(), rig.app.link_ok]}


def stray_and_bad(base):
    rig = Rig(base)
    rig.run(50)
    client = rig.broker.client
    # amqtt hands out retained messages of topics nobody subscribed to
    client.inbox.append((topics.state(HALL, "rb-06"), json.dumps(state()).encode()))
    client.inbox.append((topics.state("other-hall", DEV), json.dumps(state()).encode()))
    client.inbox.append((STATE, b"{not json"))
    client.inbox.append((STATE, json.dumps({"v": 2, "kind": "rating"}).encode()))
    wrong = state()
    wrong["kind"] = "led"
    client.inbox.append((STATE, json.dumps(wrong).encode()))
    broken = state()
    broken["levels"] = [{"label": "no key"}]
    client.inbox.append((STATE, json.dumps(broken).encode()))
    client.inbox.append((DOWN, json.dumps({"v": 1, "re": "9-9", "ok": True}).encode()))
    rig.run(200)
    mode = rig.app.mode
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    return {"mode_after_junk": mode, "stray": rig.link.stats["stray"], "bad": rig.link.stats["bad"],
            "bad_states": rig.app.counts["bad_states"], "late": rig.link.stats["late"],
            "mode_after_good": rig.app.mode, "up": rig.link.up}


def refused_vote(base):
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.press(GOOD)
    vote = rig.votes()[0]
    rig.reply(vote, False, "server_error")  # the server could not decide: keep it
    kept = len(rig.outbox)
    rig.run(3100)
    resent = len(rig.votes())
    rig.reply(vote, False, "already_rated")
    return {"kept_after_server_error": kept, "resent": resent, "after_refusal": len(rig.outbox),
            "refused": rig.app.counts["refused"], "last_error": rig.app.last_error}


def outbox_file(base):
    box = Outbox(base + "/q.json", 3)
    for n in range(5):
        box.add({"v": 1, "id": f"1-{n + 1}", "t": "rating.vote", "score": "hai-long"}, {"voted": f"x{n}"})
    again = Outbox(base + "/q.json", 3)
    with open(base + "/bad.json", "w") as f:
        f.write('{"items": [tr')
    bad = Outbox(base + "/bad.json")
    with open(base + "/tmp-only.json.tmp", "w") as f:  # FAT: power cut between remove and rename
        f.write(json.dumps({"v": 1, "items": [{"id": "7-1"}], "meta": {}, "dropped": 0}))
    tmp_only = Outbox(base + "/tmp-only.json")
    return {"ids": [m["id"] for m in box.items], "dropped": box.dropped,
            "reloaded": [m["id"] for m in again.items], "reloaded_dropped": again.dropped,
            "meta": again.meta, "corrupt": bad.corrupt, "corrupt_items": len(bad),
            "tmp_only": [m["id"] for m in tmp_only.items]}


def ticks_wrap(base):
    rig = Rig(base, t=ticks.PERIOD - 3000)  # ticks_ms() wraps 3 s from now
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.press(BAD)
    rig.run(9000)
    before = len(rig.votes())
    rig.run(1100)
    return {"votes_before_window_end": before, "votes_after": len(rig.votes()), "sent_at": rig.sends[0][0],
            "t_wrapped": rig.t < 100000}


def latched_edge(base):
    keys = rating.Debouncer(2, 30, 200)
    out = [keys.sample([False, False], 0)]
    out.append(keys.sample([False, False], 3000, 1))  # loop blocked 3 s; button 0 came and went
    out.append(keys.sample([False, False], 3010, 2))  # an edge seen on a normal 10 ms loop: bounce noise
    out.append(keys.sample([True, False], 3020))
    out.append(keys.sample([True, False], 3050))
    return {"presses": out}


def wifi_join(base):
    from mpy_fakes import FakeWifi

    wifi = FakeWifi()
    rig = Rig(base, wifi=wifi)
    rig.run(25000, 100)
    joins = wifi.calls
    mqtt_before = rig.broker.attempts
    wifi.up = True
    rig.run(200, 100)
    return {"joins_in_25s": joins, "mqtt_attempts_before": mqtt_before, "up": rig.link.up}


def instant_reply(base):
    """The server's reply arrives while umqtt is still waiting for the vote's PUBACK."""
    rig = Rig(base)

    def server(topic, text):
        if topic != UP:
            return []
        vote = json.loads(text)
        return [(DOWN, {"v": 1, "re": vote["id"], "ok": True, "rating": {"ticket": "A001", "score": vote["score"]}})]

    rig.broker.server = server
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.press(GOOD)
    rig.run(10000, 50)
    return {"sent": len(rig.votes()), "queued": len(rig.outbox), "timers": len(rig.outbox._timers),
            "accepted": rig.app.counts["accepted"], "late": rig.link.stats["late"]}


SCENARIOS = [
    armed_vote, bounce, not_armed, one_vote_per_ticket, reason_chosen, reason_window_expires,
    reason_changed_mind, reason_disarmed, offline_vote, power_cut_in_run, resend_schedule,
    backoff_schedule, link_session, stray_and_bad, refused_vote, outbox_file, ticks_wrap,
    latched_edge, wifi_join, instant_reply,
]


def run_all(base):
    results = {}
    for fn in SCENARIOS:
        path = base + "/" + fn.__name__
        os.mkdir(path)
        results[fn.__name__] = fn(path)
    return results


# ------------------------------------------------------------- power cut across interpreter runs
def first_boot(base):
    """Run 1: armed, broker lost, vote pressed, LEDs thank; then the flash files as they are."""
    rig = Rig(base)
    rig.broker.publish(STATE, state(), retain=True)
    rig.run(50)
    rig.broker.crash()
    rig.run(50)
    rig.press(BAD)
    rig.press(R_WAIT)
    files = {}
    for name in ("votes.json", "boot.count"):
        with open(base + "/" + name) as f:
            files[name] = f.read()
    return {"id": rig.outbox.items[0]["id"], "leds": rig.leds(), "mode": rig.app.mode, "files": files}


def second_boot(base):
    """Run 2, a new interpreter on the flash files of run 1: the retained state still says armed."""
    rig = Rig(base, t=777)
    rig.broker.publish(STATE, state(), retain=True)
    restored = [m["id"] for m in rig.outbox.items]
    rig.run(50)
    mode = rig.app.mode
    rig.press(GOOD)
    votes = rig.votes()
    rig.reply(votes[0])
    return {"boot": rig.ids.boot, "restored": restored, "mode": mode, "votes": votes,
            "after_reply": len(rig.outbox), "next_id": rig.ids.next()}
