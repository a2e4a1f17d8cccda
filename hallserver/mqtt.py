"""The MQTT adapter: device messages in, replies, states, calls and the board out (paho-mqtt).

One server process may serve one hall or a whole province. Each hall has its own broker
connection (its subscriptions, its broker-side queue, and its retained last will
`qms/{hall}/server/status`, which is how that hall's devices learn that the server died).

One thread does all the MQTT work of every hall: it waits on every connection's socket at once
(poll), reads what has arrived, applies it, writes the replies itself, and keeps the connections
alive (keepalive, reconnection with back-off). No network thread per connection: with a province's
hundred-odd halls, a thread each cost more in hand-offs than the work itself (bench/province/profile.md).
Other threads (HTTP, the ticker) hand it work through `inbox` and a wake-up socket.

PIN checks (PBKDF2, ~20 ms each) are the one CPU-heavy step: an officer's login waits in `_held`,
with every later message of that device behind it, while a small pool checks the PIN on the other
cores; the loop goes on with everybody else's messages meanwhile (the morning login storm).

Group commit: the loop applies what has arrived (up to MAX_BATCH messages, of any halls) one after
the other and commits it in one transaction, then publishes the replies and acknowledges. A QoS 1
message is acknowledged to the broker only after its outcome is committed (manual ack), so a killed
server gets it again on restart. At low load a batch is one message; under load, one commit
carries many, which is what lets the store keep up (bench/province).

Pipelined commit: a batch's transaction runs on a committer thread while the loop reads, applies
and prepares the next batch (the database drivers release the GIL while they wait). Its replies
and outputs are computed before the next batch touches the halls, and go out only once its commit
has returned; the next batch is committed only after it, and is refused (`unavailable`) with it if
it failed, since it was applied on top of it. Only one commit runs at a time, so the event log
keeps the order in which the loop applied the messages.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

import protocols
from broker.client import MqttUrl, paho_client
from hallserver.domain import pins
from hallserver.metrics import Histogram
from hallserver.outputs import Outputs, Publication, touched_by
from hallserver.service import Batch, HallService, Outcome, StoreUnavailable

log = logging.getLogger(__name__)
topics = protocols.topics
TICK_S = 1.0
MAX_BATCH = 200
KEEPALIVE_S = 30
HOLD_S = (0.5, 2.0)  # under load, queue views (board, terminals, dispensers) wait this long at most (hold_for)
RETRY_S = (1.0, 30.0)  # reconnection back-off: first and longest wait


@dataclass(eq=False)
class _Link:
    """One hall's broker connection and what was last published for it."""

    hall: str
    service: HallService
    client: mqtt.Client
    outputs: Outputs = field(default_factory=lambda: Outputs(board_every=HOLD_S[0]))
    connected: threading.Event = field(default_factory=threading.Event)
    retry_at: float = 0.0  # when to try to connect again (monotonic)
    backoff: float = RETRY_S[0]


def hold_for(busy: float) -> float:
    """How long queue views wait under load (Outputs.board_every), from the share of the last second
    the loop was busy (not waiting for its sockets): the shortest hold while it has time to spare,
    stretching to the longest as it saturates. The views of the whole hall are what an overloaded
    server sheds first, so that the commands keep their pace; replies, calls and a counter's own
    devices never wait (bench/province/profile.md, section 8)."""
    short, longest = HOLD_S
    return short + (longest - short) * min(1.0, max(0.0, (busy - 0.5) / 0.4))


@dataclass
class _Inbound:
    link: _Link
    msg: mqtt.MQTTMessage
    received: float
    held: bool = False  # acknowledged later: behind a login's PIN check, or until its batch has committed


@dataclass(eq=False)
class _Applied:
    """A batch applied in memory: its replies and outputs wait for its commit (on the committer thread)."""

    batch: Batch
    inbound: list[_Inbound]  # acknowledged once the batch is committed, or refused
    outcomes: list[tuple[_Inbound, str, Outcome]] = field(default_factory=list)
    pubs: list[tuple[_Link, list[Publication]]] = field(default_factory=list)
    stale: list[_Link] = field(default_factory=list)  # halls whose outputs could not be prepared: republish
    future: Future | None = None


class MqttAdapter:
    def __init__(self, services: HallService | Mapping[str, HallService], url: str, client_id: str | None = None,
                 on_publish: Callable[[Publication], None] | None = None):
        if isinstance(services, HallService):
            services = {services.config.id: services}
        self.services = dict(services)
        self.service = next(iter(self.services.values()))  # the hall of a one-hall server
        self.hall_id = self.service.config.id
        self.url = MqttUrl.parse(url)
        self.on_publish = on_publish
        self.latency = Histogram()  # up message received -> reply published (GET /metrics)
        self.inbox: queue.Queue = queue.Queue()  # work handed over by other threads
        self.connected = threading.Event()  # every hall's connection is up
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._arrived: list[_Inbound] = []  # read by the loop, not yet handled
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._links: dict[str, _Link] = {}
        self._due: set[_Link] = set()  # halls with outputs held back (Outputs.due_at)
        self._held: dict[tuple[str, str], list[tuple[_Inbound, str, object]]] = {}  # (hall, device) -> in order
        self.hold_s = HOLD_S[0]  # queue views' hold now (hold_for), for GET /metrics
        self._idle_s = 0.0  # time the loop waited in poll since the last measure
        self._pins = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="pin-check")
        self._committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
        self._inflight: _Applied | None = None  # the batch whose commit runs now
        for hall, service in self.services.items():
            cid = client_id if client_id and len(self.services) == 1 else f"{client_id or 'hallserver'}-{hall}"
            c = paho_client(self.url, cid, "hallserver",
                            (topics.server_status(hall), protocols.encode(protocols.status(False))), manual_ack=True)
            c.max_inflight_messages_set(100)
            c.connect_timeout = 5.0
            link = _Link(hall, service, c)
            c.on_connect = self._on_connect
            c.on_disconnect = self._on_disconnect
            c.on_message = self._on_message
            c.user_data_set(link)
            self._links[hall] = link

    @property
    def client(self) -> mqtt.Client:
        """The connection of a one-hall server."""
        return self._links[self.hall_id].client

    def hall_connected(self, hall: str) -> bool:
        link = self._links.get(hall)
        return link is not None and link.connected.is_set()

    def refresh(self, hall: str | None = None) -> None:
        """Publish what changed outside a device message (a manager's command, the kiosk page)."""
        self._hand_over(("outputs", hall) if hall else "outputs")

    def publish(self, hall: str, topic: str, payload: dict) -> None:
        """A one-off QoS 1 message on a hall's connection (not retained), from any thread."""
        self._hand_over(("publish", hall, Publication(topic, payload, False)))

    def _hand_over(self, item: object) -> None:
        self.inbox.put(item)
        self._wake()

    def _wake(self, *_: object) -> None:
        """Wake the loop from its poll (any thread)."""
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):  # already woken (buffer full), or stopped
            pass

    # ------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 15.0) -> None:
        self._stop.clear()
        for link in self._links.values():
            link.client.connect_async(self.url.host, self.url.port, keepalive=KEEPALIVE_S)
        for target, name in ((self._run, "mqtt-loop"), (self._tick, "mqtt-ticker")):
            t = threading.Thread(target=target, name=f"{name}-{self.hall_id}", daemon=True)
            t.start()
            self._threads.append(t)
        if not self.connected.wait(timeout):
            log.warning("broker %s not reachable yet; retrying in the background", self.url)

    def stop(self) -> None:
        self._stop.set()
        self._hand_over(None)
        for t in self._threads:
            t.join(timeout=15)
        self._threads.clear()
        self._pins.shutdown(wait=False, cancel_futures=True)  # held logins are not acknowledged: redelivered
        self._committer.shutdown(wait=True)
        self._wake_r.close()
        self._wake_w.close()

    # ------------------------------------------------------------ paho callbacks (in the loop's thread)
    def _on_connect(self, client, link: _Link, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection of hall %s: %s", link.hall, reason_code)
            return
        client.subscribe([(topic, 1) for topic in topics.subscriptions(link.hall)])
        client.publish(topics.server_status(link.hall),
                       protocols.encode(protocols.status(True, {"service": "hallserver"})), 1, True)
        self.inbox.put(("republish", link.hall))  # retained messages may be gone (an embedded broker restarted)
        link.connected.set()
        link.backoff = RETRY_S[0]
        if all(x.connected.is_set() for x in self._links.values()):
            self.connected.set()
        log.info("hall %s connected to %s", link.hall, self.url)

    def _on_disconnect(self, client, link: _Link, flags, reason_code, properties) -> None:
        link.connected.clear()
        self.connected.clear()
        link.retry_at = time.monotonic() + link.backoff
        link.backoff = min(link.backoff * 2, RETRY_S[1])
        if not self._stop.is_set():
            log.warning("hall %s disconnected from broker (%s); reconnecting", link.hall, reason_code)

    def _on_message(self, client, link: _Link, msg: mqtt.MQTTMessage) -> None:
        self._arrived.append(_Inbound(link, msg, time.perf_counter()))

    # ------------------------------------------------------------ the loop
    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            for hall, service in self.services.items():
                try:
                    changed, events = service.tick()
                except Exception:  # a failed tick is logged; the next one tries again
                    log.exception("tick of hall %s failed", hall)
                    continue
                if changed:  # what the events touched (rating windows closing), or everything
                    self._hand_over(("outputs", hall, events))

    def _run(self) -> None:
        next_misc = measured = time.monotonic()
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_misc:
                    next_misc = now + 1.0
                    self._keep_alive(now)
                    self._measure_load(now - measured)
                    measured = now
                wake = next_misc
                committing = self._inflight.batch.held if self._inflight is not None else ()
                for link in list(self._due):  # held back under load: out when due
                    due = link.outputs.due_at
                    if due is not None and due <= now and link.service not in committing:
                        self._guarded(lambda lk: self._publish_outputs(lk, events=[]), link)
                        due = link.outputs.due_at
                    if due is None:
                        self._due.discard(link)
                    else:
                        wake = min(wake, due)
                self._poll(min(1.0, max(0.0, wake - time.monotonic())))
                while self._arrived:  # in arrival order, in batches
                    batch, self._arrived = self._arrived[:MAX_BATCH], self._arrived[MAX_BATCH:]
                    self._guarded(self._handle, batch)
                if self._inflight is not None and self._inflight.future.done():
                    self._guarded(lambda _: self._complete_inflight(), None)
                self._drain_inbox()
        finally:
            self._complete_inflight()
            self._say_goodbye()

    def _measure_load(self, elapsed: float) -> None:
        """Set the queue views' hold from how busy the loop was since the last measure."""
        if elapsed <= 0:
            return
        busy, self._idle_s = 1.0 - self._idle_s / elapsed, 0.0
        self.hold_s = hold_for(busy)
        for link in self._links.values():
            link.outputs.board_every = self.hold_s

    def _keep_alive(self, now: float) -> None:
        """Keepalive pings and timeouts (loop_misc), and reconnection of what is down, with back-off."""
        for link in self._links.values():
            c = link.client
            if c.socket() is not None:
                c.loop_misc()
            elif now >= link.retry_at and not self._stop.is_set():
                try:
                    c.reconnect()
                except OSError as exc:
                    link.retry_at = now + link.backoff
                    link.backoff = min(link.backoff * 2, RETRY_S[1])
                    log.debug("hall %s: broker %s unreachable: %s", link.hall, self.url, exc)

    def _poll(self, timeout: float) -> None:
        """Wait for any socket (or a hand-over), then read and write what is ready."""
        poller = select.poll()
        socks: dict[int, _Link] = {}
        pending = False
        poller.register(self._wake_r, select.POLLIN)
        for link in self._links.values():
            sock = link.client.socket()
            if sock is None:
                continue
            socks[sock.fileno()] = link
            poller.register(sock, select.POLLIN | (select.POLLOUT if link.client.want_write() else 0))
            pending = pending or (hasattr(sock, "pending") and sock.pending() > 0)  # bytes held by TLS
        waited = time.monotonic()
        ready = poller.poll(0 if pending or not self.inbox.empty() else timeout * 1000)
        self._idle_s += time.monotonic() - waited
        for fd, events in ready:
            if fd == self._wake_r.fileno():
                try:
                    self._wake_r.recv(4096)
                except BlockingIOError:
                    pass
                continue
            link = socks[fd]
            if events & (select.POLLIN | select.POLLERR | select.POLLHUP):
                link.client.loop_read()
            if events & select.POLLOUT and link.client.socket() is not None:
                link.client.loop_write()
        if pending:
            for link in self._links.values():
                sock = link.client.socket()
                if sock is not None and hasattr(sock, "pending") and sock.pending() > 0:
                    link.client.loop_read()

    def _drain_inbox(self) -> None:
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return
            if item is None:
                self._stop.set()
                return
            self._guarded(self._control, item)

    def _control(self, item) -> None:
        if item[0] == "proved":  # a held login's PIN was checked: apply it and what waited behind it
            entries = self._held.pop(item[1], [])
            for inbound, _, _ in entries:
                inbound.held = False
            try:
                self._apply(self._admit(entries))
            finally:  # as in `_handle`: acknowledged once committed, or failed (never redelivered forever)
                for inbound, _, _ in entries:
                    if not inbound.held:
                        self._ack(inbound)
        elif item in ("republish", "outputs"):
            self._complete_inflight()  # outputs show what is committed, never a batch still committing
            for link in self._links.values():
                if item == "republish":
                    link.outputs.reset()
                self._publish_outputs(link)
        elif item[0] == "publish":
            _, hall, pub = item
            self._send(pub, self._links[hall])
        else:
            what, hall, *events = item
            link = self._links[hall]
            self._complete_inflight()
            if what == "republish":
                link.outputs.reset()
            self._publish_outputs(link, events=events[0] if events else None)

    def _guarded(self, fn: Callable, item) -> None:
        try:
            fn(item)
        except Exception:  # the server never stops for one bad message
            log.exception("failed to handle %r", item)
            self.service.metrics["handler_errors"] += 1
            for inbound in (item if isinstance(item, list) else ()):
                if not inbound.held:
                    self._ack(inbound)

    def _say_goodbye(self) -> None:
        """On a clean stop: every hall's devices see the server offline (a will is only for a crash)."""
        infos = []
        for link in self._links.values():
            if link.connected.is_set():
                infos.append((link, link.client.publish(topics.server_status(link.hall),
                                                        protocols.encode(protocols.status(False)), 1, True)))
        deadline = time.monotonic() + 5
        while any(not info.is_published() for _, info in infos) and time.monotonic() < deadline:
            self._poll(0.05)
        for link in self._links.values():
            link.client.disconnect()

    def _handle(self, inbound: list[_Inbound]) -> None:
        ups: list[tuple[_Inbound, str, object]] = []  # (message, device, parsed message or outcome)
        for item in inbound:
            link, msg = item.link, item.msg
            try:
                hall, device, leaf = topics.parse(msg.topic)
            except protocols.ProtocolError:
                link.service.metrics["malformed.bad_topic"] += 1
                log.warning("message on bad topic %r", msg.topic[:80])
                continue
            if hall != link.hall or device is None:
                continue
            if leaf == "status":
                link.service.handle_status(device, msg.payload)
            elif leaf == "up":
                ups.append((item, device, link.service.parse_up(device, msg.payload)))
        self._apply(self._admit(ups))
        for item in inbound:  # the rest are acknowledged with their batch's commit, or after a PIN check
            if not item.held:
                self._ack(item)

    def _admit(self, ups: list[tuple[_Inbound, str, object]]) -> list[tuple[_Inbound, str, object]]:
        """What can be applied now: a login whose PIN is not checked yet is held (the pool checks
        it), and so is every later message of the same device, so that each device's messages
        still apply in the order it sent them."""
        ready = []
        for entry in ups:
            item, device, parsed = entry
            key = (item.link.hall, device)
            waiting = self._held.get(key)
            if waiting is None and (pin := self._pin_to_check(item.link.service, device, parsed)) is not None:
                waiting = self._held[key] = []
                self._pins.submit(self._check_pin, key, *pin)
            if waiting is None:
                ready.append(entry)
            else:
                item.held = True
                waiting.append(entry)
        return ready

    @staticmethod
    def _pin_to_check(service: HallService, device: str, parsed: object) -> tuple[str, str] | None:
        if not isinstance(parsed, dict) or parsed["t"] != "officer.login" or device not in service.config.devices:
            return None
        officer = service.config.officers.get(parsed["officer"])
        if officer is None or not officer.active or pins.proved(officer.pin_hash, parsed["pin"]):
            return None
        return officer.pin_hash, parsed["pin"]

    def _check_pin(self, key: tuple[str, str], stored: str, pin: str) -> None:
        """In a pool thread: PBKDF2 releases the GIL, so this runs beside the loop."""
        try:
            pins.prove(stored, pin)
        finally:
            self._hand_over(("proved", key))

    def _apply(self, ups: list[tuple[_Inbound, str, object]]) -> None:
        """Apply `ups` as one batch and prepare its replies and outputs; its commit starts once the
        batch before it has committed (see the module's docstring)."""
        if not ups:
            return
        prior = self._inflight
        if prior is not None and any(s.wanted for s in prior.batch.held):
            self._complete_inflight()  # another thread waits for one of its halls (HTTP, the ticker)
            prior = None
        applied = _Applied(Batch(ups[0][0].link.service.store, after=prior.batch if prior else None),
                           [item for item, _, _ in ups])
        for item in applied.inbound:
            item.held = True  # until its batch is committed (`_complete`)
        try:
            self._prepare(applied, ups)
        finally:
            if prior is not None:
                error = self._wait(prior)
                if error is None:
                    self._submit(applied)
                self._complete(prior, error)
                if error is not None:
                    self._complete(applied, error)  # applied on top of the lost batch: lost with it
            else:
                self._submit(applied)

    def _prepare(self, applied: _Applied, ups: list[tuple[_Inbound, str, object]]) -> None:
        """Apply the messages to their halls (locked until the batch is finished) and collect what
        the halls' devices must show after them, while the engine holds exactly this batch's state."""
        batch = applied.batch
        try:
            batch.prefetch([(i.link.hall, device, m["id"]) for i, device, m in ups if isinstance(m, dict)])
        except Exception:  # looked up one by one in `apply`, which answers `unavailable` if the store is gone
            log.warning("could not look up answered message ids in one query", exc_info=True)
        changed: dict[str, tuple[set[str], list]] = {}  # hall -> (devices asking again, events)
        for item, device, parsed in ups:
            try:
                outcome = parsed if isinstance(parsed, Outcome) else item.link.service.apply(device, parsed, batch)
            except Exception:  # one bad message never stops the batch (acknowledged without a reply)
                log.exception("failed to apply a message from %s", device)
                item.link.service.metrics["handler_errors"] += 1
                continue
            applied.outcomes.append((item, device, outcome))
            if outcome.events or outcome.resend_state:
                devices, events = changed.setdefault(item.link.hall, (set(), []))
                events.extend(outcome.events)
                if outcome.resend_state:
                    devices.add(device)
        for hall, (devices, events) in changed.items():
            link = self._links[hall]
            try:
                applied.pubs.append((link, self._collect(link, tuple(devices), events)))
            except Exception:
                log.exception("outputs of hall %s not prepared; republished after the commit", hall)
                applied.stale.append(link)

    def _submit(self, applied: _Applied) -> None:
        applied.future = self._committer.submit(applied.batch.write)
        applied.future.add_done_callback(self._wake)
        self._inflight = applied

    @staticmethod
    def _wait(applied: _Applied) -> BaseException | None:
        """The commit's outcome: None once committed, or what made it fail."""
        try:
            applied.future.result()
            return None
        except Exception as exc:
            return exc

    def _complete_inflight(self) -> None:
        """Wait for the batch that is committing, then answer for it; no later batch holds its
        halls, so the threads waiting for one of them are let in before the loop goes on."""
        applied, self._inflight = self._inflight, None
        if applied is not None:
            wanted = [s for s in applied.batch.held if s.wanted]
            self._complete(applied, self._wait(applied))
            for service in wanted:
                service.let_in()

    def _complete(self, applied: _Applied, error: BaseException | None) -> None:
        """After the commit (or its failure, `error`): unlock the halls, reply, publish, acknowledge."""
        if self._inflight is applied:
            self._inflight = None
        try:
            committed = applied.batch.finish(error)
            for item, device, outcome in applied.outcomes:
                link = item.link
                if outcome.reply is not None:
                    self._send(Publication(topics.down(link.hall, device), outcome.reply, False), link)
                self.latency.observe(time.perf_counter() - item.received)
            if committed:
                for link, pubs in applied.pubs:
                    for pub in pubs:
                        self._send(pub, link)
            stale = applied.stale if committed else [link for link, _ in applied.pubs] + applied.stale
            for link in stale:  # what was prepared is not what the halls hold now
                link.outputs.reset()
                self._publish_outputs(link)
        finally:
            for item in applied.inbound:
                if item.held:
                    item.held = False
                    self._ack(item)

    def _ack(self, item: _Inbound) -> None:
        if item.msg.qos > 0:
            item.link.client.ack(item.msg.mid, item.msg.qos)

    def _publish_outputs(self, link: _Link, resend: tuple[str, ...] = (), events: list | None = None) -> None:
        """Publish what changed (see `_collect`)."""
        for pub in self._collect(link, resend, events):
            self._send(pub, link)

    def _collect(self, link: _Link, resend: tuple[str, ...] = (), events: list | None = None) -> list[Publication]:
        """What changed: after device messages or a tick's events, only the devices those `events`
        can change are looked at (outputs.touched_by); otherwise (a new day, a manager, a
        reconnection) every device of the hall."""
        def collect(hall, now):
            touched = None if events is None else touched_by(hall, events)
            return link.outputs.collect(hall, now, resend, touched, time.monotonic())

        try:
            pubs = link.service.snapshot(collect)
        except StoreUnavailable:
            log.warning("store unreachable: states of hall %s not republished until it is back", link.hall)
            link.outputs.reset()  # republish everything once the hall is rebuilt
            return []
        if link.outputs.due_at is not None:
            self._due.add(link)
        return pubs

    def _send(self, pub: Publication, link: _Link) -> None:
        link.client.publish(pub.topic, pub.encode(), qos=1, retain=pub.retain)
        link.service.metrics["messages_out"] += 1
        if self.on_publish is not None:
            self.on_publish(pub)
