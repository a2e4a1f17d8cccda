"""Staffing advice: counters needed per service and hour (Erlang C, one queue per department), and a
chain of cross-trained counters that pools the departments' queues.

Why a chain: a department with one file a day still needs a desk all day when every desk serves
one department, while a counter trained on two services, linked in a closed chain through all of
them, captures most of the benefit of full pooling (Jordan and Graves 1995) with one extra skill
per officer. The chain alternates heavy and light services, so a quiet department's officer also
serves a busy one, and every quiet service sits next to a busy one whose counters cover it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hallserver.domain.config import HallConfig
from hallserver.staffing.demand import Demand, rate_per_hour
from hallserver.staffing.erlang import Figures, counters_needed

QUIET_ERLANGS = 0.5


@dataclass(frozen=True)
class Target:
    sl: float = 0.8  # share served within the service's target_wait_min
    max_occupancy: float = 0.85
    # breaks and absence: counters scheduled = needed / (1 - shrinkage), rounded up. 0 by default:
    # rounding 1 desk up to 2 is absurd for a quiet department; the simulation check has the breaks
    shrinkage: float = 0.0


DEFAULT_TARGET = Target()


@dataclass(frozen=True)
class HourNeed:
    hour: int
    rate: float  # tickets per hour while issuing
    aht_min: float
    counters: int  # to schedule (shrinkage included)
    figures: Figures  # of the counters actually serving


def loads(config: HallConfig, demand: Demand, weekday: str | None = None) -> dict[str, float]:
    """Officer-hours of work per service, on one weekday or over the whole week."""
    days = [weekday] if weekday else list(demand.hourly)
    out = {code: 0.0 for code in config.services}
    for wd in days:
        for s, per in demand.hourly.get(wd, {}).items():
            if s in out:
                out[s] += sum(per.values()) * demand.aht_min.get(s, config.services[s].handle_min) / 60
    return out


def dedicated(config: HallConfig, demand: Demand, weekday: str,
              target: Target = DEFAULT_TARGET) -> dict[str, list[HourNeed]]:
    """Counters per service per hour when each department keeps its own queue."""
    out: dict[str, list[HourNeed]] = {}
    for code, svc in config.services.items():
        aht = demand.aht_min.get(code, svc.handle_min)
        needs = []
        for hour in demand.hours(weekday):
            rate = rate_per_hour(config, demand, code, weekday, hour)
            if rate <= 0:
                continue
            n, fig = counters_needed(rate, aht, svc.target_wait_min, target.sl, target.max_occupancy,
                                     target.shrinkage)
            needs.append(HourNeed(hour, rate, aht, n, fig))
        if needs:
            out[code] = needs
    return out


def peak_erlangs(config: HallConfig, demand: Demand) -> dict[str, float]:
    """Each service's largest hourly load (Erlangs) over the week."""
    out = {code: 0.0 for code in config.services}
    for wd, per_service in demand.hourly.items():
        for s in per_service:
            if s not in out:
                continue
            aht = demand.aht_min.get(s, config.services[s].handle_min)
            for h in per_service[s]:
                out[s] = max(out[s], rate_per_hour(config, demand, s, wd, h) * aht / 60)
    return out


def design_chain(config: HallConfig, demand: Demand, quiet_erlangs: float = QUIET_ERLANGS) -> list[tuple[str, ...]]:
    """The skill pairs of a pooled hall: a closed chain through the busy services (by load, so
    each busy service shares counters with two others), and each quiet service's desk trained on
    one busy service (its officer serves both; the quiet service costs no counter of its own).
    A quiet service is one whose peak hour would keep a desk of its own less than
    `quiet_erlangs` busy. The first service of a pair is the counter's own."""
    work = loads(config, demand)
    peak = peak_erlangs(config, demand)
    ranked = sorted(config.services, key=lambda s: (-work[s], s))
    busy = [s for s in ranked if peak[s] >= quiet_erlangs]
    quiet = [s for s in ranked if peak[s] < quiet_erlangs]
    if len(busy) < 2:
        busy, quiet = ranked, []
    if len(busy) == 1:
        return [(busy[0],)]
    links = [(busy[i], busy[(i + 1) % len(busy)]) for i in range(len(busy))]
    taken = dict.fromkeys(busy, 0.0)
    for q in quiet:  # the busy service with the most work per quiet partner so far
        host = max(busy, key=lambda b: (work[b] / (1 + taken[b]), -busy.index(b)))
        taken[host] += 1
        links.append((q, host))
    return links


@dataclass
class Chain:
    links: list[tuple[str, ...]]  # each counter's services, its own first
    counters: dict[int, list[int]] = field(default_factory=dict)  # hour -> counters per link
    pooled: dict[int, HourNeed] = field(default_factory=dict)  # hour -> the pooled Erlang C figures

    def officer_hours(self) -> int:
        return sum(sum(v) for v in self.counters.values())


def _allocate(links: list[tuple[str, ...]], load: dict[str, float], total: int) -> list[int]:
    """Counters per link for one hour: one on each quiet service's link while it has tickets, one
    on a link of each busy service not yet covered, then the rest by D'Hondt on the chain links'
    share of the work left (half of each end's load)."""
    alloc = [0] * len(links)
    covered: set[str] = set()
    owners = {lk[0] for lk in links}
    spur = [len(lk) == 2 and lk[0] not in {x[1] for x in links} for lk in links]
    for j, lk in enumerate(links):
        if spur[j] and load.get(lk[0], 0) > 0:
            alloc[j] = 1
            covered.update(lk)
    left = {s: load.get(s, 0.0) for s in owners}
    for j, lk in enumerate(links):
        if spur[j] and alloc[j]:
            left[lk[1]] = max(0.0, left.get(lk[1], 0.0) + load.get(lk[0], 0.0) - 0.85)
    chain = [j for j in range(len(links)) if not spur[j]]

    def weight(j: int) -> float:
        lk = links[j]
        return sum(left.get(s, 0.0) for s in lk) / len(lk)

    for s in sorted((s for s in owners if load.get(s, 0) > 0 and s not in covered), key=lambda s: -load[s]):
        if s in covered:
            continue
        j = max((j for j in chain if s in links[j]), key=weight, default=None)
        if j is not None:
            alloc[j] += 1
            covered.update(links[j])
    for _ in range(max(0, total - sum(alloc))):
        best = max(chain, key=lambda j: (weight(j) / (alloc[j] + 1), -j), default=None)
        if best is None or weight(best) <= 0:
            break
        alloc[best] += 1
    return alloc


def chain(config: HallConfig, demand: Demand, weekday: str, target: Target = DEFAULT_TARGET,
          links: list[tuple[str, ...]] | None = None, extra: dict[int, int] | None = None) -> Chain:
    """Counters per link and hour: the pooled Erlang C requirement of all services together (plus
    `extra` counters per hour, from a simulation check), spread over the links by their work."""
    links = links or design_chain(config, demand)
    services = sorted({s for lk in links for s in lk})
    ch = Chain(links)
    for hour in demand.hours(weekday):
        rates = {s: rate_per_hour(config, demand, s, weekday, hour) for s in services}
        total = sum(rates.values())
        if total <= 0:
            continue
        ahts = {s: demand.aht_min.get(s, config.services[s].handle_min) for s in services}
        aht = sum(rates[s] * ahts[s] for s in services) / total
        t_min = min(config.services[s].target_wait_min for s in services if rates[s] > 0)
        n, fig = counters_needed(total, aht, t_min, target.sl, target.max_occupancy, target.shrinkage)
        n += (extra or {}).get(hour, 0)
        ch.counters[hour] = _allocate(links, {s: rates[s] * ahts[s] / 60 for s in services}, n)
        ch.pooled[hour] = HourNeed(hour, total, aht, n, fig)
    return ch


def pooled_counters(config: HallConfig, links: list[tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    """The hall's own counters re-trained on the chain: each desk keeps its department first and
    adds the partner its department's link names."""
    partner = {lk[0]: lk for lk in links}
    return {n: partner.get(c.services[0], c.services) if c.services else c.services
            for n, c in sorted(config.counters.items())}


def one_desk_per_department_hours(demand: Demand, weekday: str) -> int:
    """The officer-hours of one desk per department with any ticket that day, open every hour."""
    services = [s for s, per in demand.hourly.get(weekday, {}).items() if sum(per.values()) > 0]
    return len(services) * len(demand.hours(weekday))


def dedicated_hours(needs: dict[str, list[HourNeed]]) -> int:
    return sum(h.counters for hs in needs.values() for h in hs)


def floor_hours(config: HallConfig, demand: Demand, weekday: str, target: Target = DEFAULT_TARGET) -> int:
    """Officer-hours if every counter served every service (full pooling, Erlang C)."""
    total = 0
    for hour in demand.hours(weekday):
        rates = {s: rate_per_hour(config, demand, s, weekday, hour) for s in config.services}
        lam = sum(rates.values())
        if lam <= 0:
            continue
        aht = sum(r * demand.aht_min.get(s, config.services[s].handle_min) for s, r in rates.items()) / lam
        t_min = min(config.services[s].target_wait_min for s, r in rates.items() if r > 0)
        total += counters_needed(lam, aht, t_min, target.sl, target.max_occupancy, target.shrinkage)[0]
    return total
