"""A month of hall history written straight into the store (tickets, their events, ratings and
officer sessions), shaped like the seed hall: uneven volumes per service, waits around the targets,
a few no-shows, most citizens voting. For the report benchmark and the README screenshots; the live
engine never reads it (it replays only today)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from hallserver.domain.config import HallConfig
from hallserver.store import Store
from hallserver.store.models import EventRow, OfficerSessionRow, RatingRow, TicketRow
from simulators.day import REASONS, VOTES, WEIGHTS


def u(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def working_days(first: date, n: int) -> list[date]:
    """The first `n` days from `first`, Monday to Saturday (halls open Saturday mornings)."""
    days, d = [], first
    while len(days) < n:
        if d.weekday() < 6:
            days.append(d)
        d += timedelta(days=1)
    return days


def write_days(store: Store, cfg: HallConfig, tz, days: list[date], per_day: int, seed: int = 6) -> int:
    """Write `per_day` tickets on each day; returns the number of rows written."""
    rng = random.Random(seed)
    hall = cfg.id
    services = [s for s in cfg.services if s in WEIGHTS] or list(cfg.services)
    weights = [WEIGHTS.get(s, 1) for s in services]
    counters = {s: [c.number for c in cfg.counters.values() if s in c.services] or [1] for s in cfg.services}
    officer_at = dict(zip(sorted(cfg.counters), list(cfg.officers), strict=False))
    rows = 0
    for day in days:
        tickets, events, ratings, sessions = [], [], [], []
        seq = dict.fromkeys(cfg.services, 0)
        opening = datetime.combine(day, datetime.min.time(), tz).replace(hour=7)
        for n in range(per_day):
            s = rng.choices(services, weights)[0]
            seq[s] += 1
            number = f"{cfg.services[s].prefix}{seq[s]:0{cfg.number_width}d}"
            issued = opening + timedelta(minutes=570 * n / per_day + rng.random())
            # busier mornings wait longer
            mean_wait = cfg.services[s].target_wait_min * (0.9 if issued.hour < 11 else 0.5)
            called = issued + timedelta(minutes=rng.expovariate(1 / mean_wait))
            counter = rng.choice(counters[s])
            officer = officer_at.get(counter)
            no_show = rng.random() < 0.05
            handle = 1 if no_show else rng.lognormvariate(0, 0.5) * cfg.services[s].handle_min
            finished = called + timedelta(minutes=handle)
            status = "no_show" if no_show else "done"
            tickets.append({"hall": hall, "day": day, "number": number, "service": s, "first_service": s,
                            "priority": None, "status": status, "token": f"h{day:%Y%m%d}{number}", "device": "kiosk-1",
                            "issued_at": u(issued), "called_at": u(called), "first_called_at": u(called),
                            "finished_at": u(finished), "counter": counter, "officer": officer, "recalls": 0,
                            "transfers": 0})
            for kind, at in (("ticket.issued", issued), ("ticket.called", called), (f"ticket.{status}", finished)):
                events.append({"hall": hall, "day": day, "at": u(at), "kind": kind, "number": number,
                               "counter": counter, "officer": officer, "data": {"number": number, "history": True}})
            if not no_show and rng.random() < 0.8:
                score = rng.choices([v for v, _ in VOTES], [w for _, w in VOTES])[0]
                ratings.append({"hall": hall, "day": day, "at": u(finished + timedelta(seconds=20)),
                                "number": number, "officer": officer, "counter": counter, "device": None,
                                "score": score, "reason": rng.choice(REASONS) if score == "khong-hai-long" else None})
        for counter, officer in officer_at.items():
            sessions.append({"hall": hall, "officer": officer, "counter": counter,
                             "login_at": u(opening - timedelta(minutes=10)),
                             "logout_at": u(opening + timedelta(hours=10))})
        with store.sessions.begin() as s:
            for model, batch in ((TicketRow, tickets), (EventRow, events), (RatingRow, ratings),
                                 (OfficerSessionRow, sessions)):
                s.execute(insert(model), batch)
                rows += len(batch)
    return rows
