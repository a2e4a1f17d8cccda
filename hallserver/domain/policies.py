"""Next-ticket choice for a counter, behind one interface so better policies can be added.

A policy only ranks the eligible tickets of one class; priority rules (strict or one-in-N) are
applied on top of any policy by `choose`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hallserver.domain.config import HallConfig
from hallserver.domain.model import CounterState, Ticket


class Policy(Protocol):
    name: str

    def pick(self, candidates: list[Ticket], counter: CounterState, config: HallConfig) -> Ticket | None: ...


class Oldest:
    """The oldest waiting ticket among the counter's services: first come, first served."""

    name = "oldest"

    def pick(self, candidates: list[Ticket], counter: CounterState, config: HallConfig) -> Ticket | None:
        return min(candidates, key=lambda t: t.key, default=None)


POLICIES: dict[str, Policy] = {p.name: p for p in (Oldest(),)}


def get(name: str) -> Policy:
    try:
        return POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; known: {sorted(POLICIES)}") from None


def choose(policy: Policy, eligible: Iterable[Ticket], counter: CounterState, config: HallConfig) -> Ticket | None:
    """Apply the priority rule, then the policy within the chosen class."""
    prio: list[Ticket] = []
    ordinary: list[Ticket] = []
    for t in eligible:
        (prio if t.priority else ordinary).append(t)
    if not prio:
        return policy.pick(ordinary, counter, config)
    if not ordinary:
        return policy.pick(prio, counter, config)
    rule = config.priority
    if rule.mode == "strict" or counter.ordinary_streak >= rule.every:
        return policy.pick(prio, counter, config)
    return policy.pick(ordinary, counter, config)
