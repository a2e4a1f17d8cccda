"""Fakes of what the boards talk to, in the MicroPython subset: they run under the WebAssembly
port and CPython alike. A broker with retained messages, a will and outages, and a client with
umqtt.simple's methods; a Wi-Fi interface; a SPI bus and a chip-select pin that record bytes."""

import json


class FakeSock:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


class FakeBroker:
    """One broker, one device session at a time. The tests play the hall server through
    `publish` (state, replies, server status) and read what the device published in `log`."""

    def __init__(self):
        self.up = True
        self.retained = {}  # topic -> payload bytes
        self.log = []  # (topic, payload text, retain, qos) published by the device
        self.client = None  # the live session
        self.connects = []  # (client id number, clean_session, will) per successful CONNECT
        self.attempts = 0
        self.made = 0
        self.server = None  # fn(topic, payload) -> [(topic, obj)]: answers delivered before the PUBACK

    def make_client(self):
        self.made += 1
        return FakeClient(self, self.made)

    def publish(self, topic, obj, retain=False):
        payload = json.dumps(obj).encode() if isinstance(obj, dict) else obj
        if retain:
            self.retained[topic] = payload
        c = self.client
        if c is not None and c.alive and topic in c.subs:
            c.inbox.append((topic, payload))

    def crash(self):
        """The broker goes away (or the device's network does): sessions die, wills fire."""
        self.up = False
        self.drop_session()

    def drop_session(self):
        c = self.client
        if c is not None and c.alive:
            c.alive = False
            if c.will is not None:
                self.retained[c.will[0]] = c.will[1]
        self.client = None

    def sent(self, topic):
        """Objects the device published on `topic`, in order."""
        return [json.loads(p) for (t, p, _r, _q) in self.log if t == topic]


class FakeClient:
    def __init__(self, broker, number):
        self.broker = broker
        self.number = number
        self.cb = None
        self.will = None
        self.alive = False
        self.subs = {}
        self.inbox = []
        self.sock = FakeSock()

    def _check(self):
        if not self.alive or not self.broker.up or self.sock.closed:
            raise OSError(104)  # ECONNRESET

    def set_callback(self, f):
        self.cb = f

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self.will = (topic, msg, retain, qos)

    def connect(self, clean_session=True):
        self.broker.attempts += 1
        if not self.broker.up:
            raise OSError(113)  # EHOSTUNREACH
        old = self.broker.client
        if old is not None:
            old.alive = False  # the same client id takes over: the old session ends
        self.alive = True
        self.broker.client = self
        self.broker.connects.append((self.number, clean_session, self.will))
        return False

    def publish(self, topic, msg, retain=False, qos=0):
        self._check()
        text = msg.decode() if isinstance(msg, bytes) else msg
        self.broker.log.append((topic, text, retain, qos))
        if retain:
            self.broker.retained[topic] = msg
        if self.broker.server is not None:  # umqtt hands over what arrives while it waits for the PUBACK
            for answer_topic, obj in self.broker.server(topic, text):
                if answer_topic in self.subs:
                    self.cb(answer_topic.encode(), json.dumps(obj).encode())

    def subscribe(self, topic, qos=0):
        self._check()
        self.subs[topic] = qos
        if topic in self.broker.retained:  # delivered while umqtt waits for the SUBACK
            self.cb(topic.encode(), self.broker.retained[topic])

    def check_msg(self):
        self._check()
        if self.inbox:
            topic, payload = self.inbox.pop(0)
            self.cb(topic.encode(), payload)

    def ping(self):
        self._check()

    def disconnect(self):
        self._check()
        self.alive = False
        self.broker.client = None


class FakeWifi:
    """Counts join attempts; the test decides when the access point lets it in (`up`)."""

    def __init__(self):
        self.up = False
        self.calls = 0

    def isconnected(self):
        return self.up

    def connect(self):
        self.calls += 1


class FakeSpi:
    def __init__(self, cs):
        self.cs = cs
        self.frames = []

    def write(self, buf):
        assert self.cs.level == 0, "SPI write with CS high"
        self.frames.append(bytes(buf))


class FakePin:
    def __init__(self):
        self.level = 1
        self.changes = 0

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v
        self.changes += 1
