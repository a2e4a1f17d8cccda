"""The device side of the hall's MQTT contract, over an injected umqtt.simple-like client.

Two jobs kept apart (as in peterhinch's mqtt_as): the application calls `send`/queues in the
outbox and reads `ok()`; the link keeps the session alive: Wi-Fi join, broker connect with a
retained last will, status online, subscriptions, keep-alive pings, reconnection with back-off,
and resending the outbox. It never reads a clock: `step(now)` is called from the main loop.

`make_client()` returns a new client with umqtt.simple's methods (set_callback, set_last_will,
connect, publish, subscribe, check_msg, ping, disconnect; `sock`). Any exception from it means the
session is gone. `wifi` has isconnected() and connect() (start joining), or is None.

Callbacks (all optional), each given the current tick:
  on_state(state, now)       the device's retained state (a dict, version checked), every time it arrives
  on_reply(msg, reply, now)  the reply to an outbox message, which is then off the queue
  on_change(ok, now)         ok() changed: broker session up and the server not known offline
"""

from mpyrt import ticks
from mpyrt.backoff import Backoff

import protocols
from protocols import topics

# replies that do not settle a queued message: the server could not decide, so ask again later
RETRY_CODES = ("server_error", "unavailable")


class Link:
    def __init__(self, hall, device, make_client, wifi=None, fw="1.0.0", keepalive_s=30, backoff=None,
                 watch_server=True, join_ms=20000, outbox=None, log=None):
        self.hall = hall
        self.device = device
        self.t_up = topics.up(hall, device)
        self.t_down = topics.down(hall, device)
        self.t_state = topics.state(hall, device)
        self.t_status = topics.status(hall, device)
        self.t_server = topics.server_status(hall)
        self.make_client = make_client
        self.wifi = wifi
        self.fw = fw
        self.keepalive_ms = keepalive_s * 1000
        self.backoff = backoff if backoff is not None else Backoff()
        self.watch_server = watch_server
        self.join_ms = join_ms
        self.outbox = outbox
        self.log = log
        self.client = None
        self.up = False  # the broker session is established
        self.server_up = None  # from the server's retained status; None until seen
        self.on_state = None
        self.on_reply = None
        self.on_change = None
        self.stats = {"connects": 0, "failures": 0, "drops": 0, "joins": 0, "bad": 0, "stray": 0, "late": 0}
        self._retry_at = None  # None: try at the next step
        self._join_at = None
        self._ping_at = 0
        self._now = 0
        self._ok = False

    def ok(self):
        """Connected, and the server not known to be offline: what a display calls 'online'."""
        return self.up and self.server_up is not False

    def _say(self, text, exc=None):
        if self.log is not None:
            self.log("%s: %s%s" % (self.device, text, "" if exc is None else " (%r)" % (exc,)))

    # ------------------------------------------------------------------ the loop
    def step(self, now):
        """Do what is due: join, connect, read messages, ping, (re)send the outbox. Never raises
        for a network fault; it shows in `up` and `ok()` instead."""
        self._now = now
        if not self.up and (self._retry_at is None or ticks.due(now, self._retry_at)):
            self._connect(now)
        client = self.client
        if self.up and client is not None:
            try:
                client.check_msg()
                if ticks.due(now, self._ping_at):
                    client.ping()
                    self._ping_at = ticks.add(now, self.keepalive_ms // 2)
                self._flush(client, now)
            except Exception as exc:  # umqtt raises OSError, MQTTException, even IndexError
                self._drop(now, exc)

    def _connect(self, now):
        if self.wifi is not None and not self.wifi.isconnected():
            if self._join_at is None or ticks.due(now, self._join_at):
                self._say("joining Wi-Fi")
                self.stats["joins"] += 1
                try:
                    self.wifi.connect()
                except OSError as exc:
                    self._say("Wi-Fi", exc)
                self._join_at = ticks.add(now, self.join_ms)
            return
        self._join_at = None
        client = None
        try:
            client = self.make_client()
            client.set_callback(self._on_message)
            client.set_last_will(self.t_status, protocols.encode(protocols.status(False)), True, 1)
            client.connect(False)  # clean_session=False: replies sent while we reconnect still arrive
            self.client = client
            client.publish(self.t_status, protocols.encode(protocols.status(True, {"fw": self.fw})), True, 1)
            client.subscribe(self.t_down, 1)
            client.subscribe(self.t_state, 1)  # the retained state arrives right after this
            if self.watch_server:
                client.subscribe(self.t_server, 1)
        except Exception as exc:
            self._close(client)
            self.client = None
            self.stats["failures"] += 1
            delay = self.backoff.next()
            self._retry_at = ticks.add(now, delay)
            self._say("connect failed, next try in %d ms" % delay, exc)
            return
        self.up = True
        self.backoff.reset()
        self.stats["connects"] += 1
        self._ping_at = ticks.add(now, self.keepalive_ms // 2)
        if self.outbox is not None:
            self.outbox.resend_all()
        self._say("connected")
        self._changed(now)

    def _drop(self, now, exc=None):
        self._close(self.client)
        self.client = None
        self.up = False
        self.stats["drops"] += 1
        delay = self.backoff.next()
        self._retry_at = ticks.add(now, delay)
        self._say("link lost, next try in %d ms" % delay, exc)
        self._changed(now)

    def _close(self, client):
        # no DISCONNECT packet: the broker must still publish the last will
        sock = getattr(client, "sock", None) if client is not None else None
        if sock is not None:
            try:
                sock.close()
            except Exception:
                pass

    def _changed(self, now):
        ok = self.ok()
        if ok != self._ok:
            self._ok = ok
            if self.on_change is not None:
                self._call(self.on_change, ok, now)

    def _call(self, fn, *args):
        # a failing handler is logged; the link goes on
        try:
            fn(*args)
        except Exception as exc:
            self.stats["bad"] += 1
            self._say("handler failed", exc)

    # ------------------------------------------------------------------ sending
    def _flush(self, client, now):
        if self.outbox is None:
            return
        for msg in self.outbox.due(now):
            try:
                payload = protocols.encode(msg)
            except protocols.ProtocolError as exc:  # can never be sent: do not retry forever
                self.outbox.settle(msg["id"])
                self.stats["bad"] += 1
                self._say("dropped unsendable message", exc)
                continue
            client.publish(self.t_up, payload, False, 1)
            self.outbox.sent(msg["id"], now)

    def send(self, msg):
        """Publish one up message now, without queueing it; False when the link is down."""
        client = self.client
        if not self.up or client is None:
            return False
        try:
            client.publish(self.t_up, protocols.encode(msg), False, 1)
        except Exception as exc:
            self._drop(self._now, exc)
            return False
        return True

    def close(self):
        """A clean shutdown: say offline first (the last will is for crashes), then disconnect."""
        client = self.client
        if self.up and client is not None:
            try:
                client.publish(self.t_status, protocols.encode(protocols.status(False)), True, 1)
                client.disconnect()
            except Exception:
                self._close(client)
        self.client = None
        self.up = False

    # ------------------------------------------------------------------ receiving
    def _on_message(self, topic, payload):
        now = self._now
        try:
            if not isinstance(topic, str):
                topic = topic.decode()
            hall, device, leaf = topics.parse(topic)
        except (protocols.ProtocolError, UnicodeError, ValueError):
            self.stats["stray"] += 1
            return
        # some brokers (amqtt) hand out retained messages of topics never subscribed to
        if hall != self.hall or (device is not None and device != self.device):
            self.stats["stray"] += 1
            return
        try:
            if leaf == "server/status":
                self.server_up = protocols.parse_status(payload)["online"]
                if self.up:
                    self._changed(now)
            elif leaf == "state":
                state = protocols.parse_object(payload)
                if self.on_state is not None:
                    self._call(self.on_state, state, now)
            elif leaf == "down":
                self._on_down(protocols.parse_down(payload), now)
            else:
                self.stats["stray"] += 1
        except protocols.ProtocolError as exc:
            self.stats["bad"] += 1
            self._say("bad message on %s" % leaf, exc)

    def _on_down(self, down, now):
        if "re" not in down:
            return  # a push of a type this device does not know: ignored
        if not down["ok"] and down["error"]["code"] in RETRY_CODES:
            return  # stays queued: the resend timer asks again
        msg = self.outbox.settle(down["re"]) if self.outbox is not None else None
        if msg is None:
            self.stats["late"] += 1  # a duplicate reply to a retry: normal
            return
        if self.on_reply is not None:
            self._call(self.on_reply, msg, down, now)
