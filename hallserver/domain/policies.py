"""Next-ticket choice for a counter, behind one interface so halls can pick (and switch) policies.

A policy only ranks the eligible tickets of one class; priority rules (strict or one-in-N) are
applied on top of any policy by `choose`. Every policy returns a ticket whenever it is given one
(work-conserving): a counter with someone it may serve is never left idle by a call.

- `oldest`: first come, first served over the counter's services.
- `preference`: the counter's first service is its own department's; it serves that first, and
  another service only when its own queue is empty or when that ticket has waited longer than the
  hall's `preference_wait_min` (then the oldest of those wins, so nobody is bypassed for ever).
- `sla`: the largest wait relative to the service's target wait (a generalised c-mu rule): a
  service with a short target is served sooner, and every ticket's ratio grows until it is served.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from hallserver.domain.config import POLICY_NAMES, HallConfig
from hallserver.domain.model import CounterState, Ticket


class Policy(Protocol):
    name: str

    def pick(self, candidates: list[Ticket], counter: CounterState, config: HallConfig,
             now: datetime) -> Ticket | None: ...


def _key(t: Ticket) -> tuple[datetime, int]:
    return t.key


class Oldest:
    """The oldest waiting ticket among the counter's services: first come, first served."""

    name = "oldest"

    def pick(self, candidates: list[Ticket], counter: CounterState, config: HallConfig,
             now: datetime) -> Ticket | None:
        return min(candidates, key=_key, default=None)


class Preference:
    """Own department first; other services when it is empty or when their ticket is overdue.

    The counter's own tickets are those of its first service and those transferred to it."""

    name = "preference"

    def pick(self, candidates: list[Ticket], counter: CounterState, config: HallConfig,
             now: datetime) -> Ticket | None:
        if not candidates:
            return None
        primary = counter.services[0] if counter.services else None
        own = [t for t in candidates if t.service == primary or t.target_counter == counter.number]
        if not own:
            return min(candidates, key=_key)
        threshold = config.preference_wait_s
        overdue = [t for t in candidates if (now - t.queued_at).total_seconds() > threshold]
        return min(own + overdue, key=_key)


class Sla:
    """The largest ratio of wait to the service's target wait; ties go to the oldest."""

    name = "sla"

    def pick(self, candidates: list[Ticket], counter: CounterState, config: HallConfig,
             now: datetime) -> Ticket | None:
        services = config.services

        def urgency(t: Ticket) -> tuple[float, datetime, int]:
            target = services[t.service].target_wait_min if t.service in services else 1
            ratio = (now - t.queued_at).total_seconds() / (60.0 * max(target, 1e-9))
            return (-ratio, t.queued_at, t.order)

        return min(candidates, key=urgency, default=None)


POLICIES: dict[str, Policy] = {p.name: p for p in (Oldest(), Preference(), Sla())}
assert tuple(POLICIES) == POLICY_NAMES, "config.POLICY_NAMES must list the policies defined here"


def get(name: str) -> Policy:
    try:
        return POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; known: {sorted(POLICIES)}") from None


def choose(policy: Policy, eligible: Iterable[Ticket], counter: CounterState, config: HallConfig,
           now: datetime) -> Ticket | None:
    """Apply the priority rule, then the policy within the chosen class."""
    prio: list[Ticket] = []
    ordinary: list[Ticket] = []
    for t in eligible:
        (prio if t.priority else ordinary).append(t)
    if not prio:
        return policy.pick(ordinary, counter, config, now)
    if not ordinary:
        return policy.pick(prio, counter, config, now)
    rule = config.priority
    if rule.mode == "strict" or counter.ordinary_streak >= rule.every:
        return policy.pick(prio, counter, config, now)
    return policy.pick(ordinary, counter, config, now)
