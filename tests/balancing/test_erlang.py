"""Erlang C against an independent implementation (pyworkforce), against exact rational
arithmetic at hundreds of Erlangs, and its own monotonicity; the `erlang` command's JSON."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyworkforce.queuing import ErlangC

from hallserver.staffing.__main__ import main
from hallserver.staffing.erlang import counters_needed, erlang_b, erlang_c, figures, wait_quantile

CASES = [(rate, aht, target) for rate in (3, 20, 100, 600, 3000, 12000) for aht in (3, 7.5, 12)
         for target in (1 / 3, 5, 15)]


def theirs(rate: float, aht: float, target: float) -> ErlangC:
    return ErlangC(transactions=rate, aht=aht, asa=target, interval=60)


@pytest.mark.parametrize(("rate", "aht", "target"), CASES)
def test_figures_match_pyworkforce(rate, aht, target):
    ref = theirs(rate, aht, target)
    a = rate * aht / 60
    for c in sorted({math.floor(a) + k for k in (1, 2, 3, 5, 10)} | {math.ceil(a * 1.2) + 1}):
        f = figures(rate, aht, c, target)
        assert f.p_wait == pytest.approx(ref.waiting_probability(c), abs=1e-6, rel=1e-6)
        assert f.sl == pytest.approx(ref.service_level(c), abs=1e-6, rel=1e-6)
        assert f.occupancy == pytest.approx(ref.achieved_occupancy(c), abs=1e-6, rel=1e-6)
        assert f.wq_min == pytest.approx(ref.waiting_probability(c) * aht / (c - a), rel=1e-6)


@pytest.mark.parametrize(("rate", "aht", "target"), CASES)
@pytest.mark.parametrize(("sl", "occ", "shrink"), [(0.8, 1.0, 0.0), (0.9, 0.85, 0.3), (0.5, 0.7, 0.1)])
def test_counters_needed_match_pyworkforce(rate, aht, target, sl, occ, shrink):
    ref = ErlangC(transactions=rate, aht=aht, asa=target, interval=60, shrinkage=shrink).required_positions(sl, occ)
    n, f = counters_needed(rate, aht, target, sl, occ, shrink)
    a = rate * aht / 60
    if round(a + 1) > math.floor(a) + 1 and figures(rate, aht, math.floor(a) + 1, target).sl >= sl:
        # pyworkforce starts its search at round(a + 1) and misses floor(a) + 1, which suffices here
        assert f.counters <= ref["raw_positions"] and f.occupancy <= occ
        return
    assert f.counters == ref["raw_positions"]
    assert f.sl == pytest.approx(ref["service_level"], abs=1e-6)
    assert f.occupancy == pytest.approx(ref["occupancy"], abs=1e-6)
    assert n == ref["positions"]


def exact_erlang_c(c: int, a: int) -> Fraction:
    """Textbook Erlang C in exact rationals (the form that overflows floats past c = 170)."""
    term = Fraction(1)
    total = Fraction(1)
    for k in range(1, c):
        term = term * a / k
        total += term
    last = term * a / c * Fraction(c, c - a)
    return last / (total + last)


@pytest.mark.parametrize(("a", "c"), [(150, 160), (400, 420), (800, 830)])
def test_hundreds_of_erlangs_are_exact(a, c):
    assert erlang_c(c, a) == pytest.approx(float(exact_erlang_c(c, a)), rel=1e-9)
    f = figures(a * 60 / 5, 5, c, 0.5)
    assert 0 < f.p_wait < 1 and 0 < f.sl < 1 and math.isfinite(f.wq_min)


@settings(max_examples=200, deadline=None)
@given(a=st.floats(0.01, 500), extra=st.integers(1, 40))
def test_more_counters_never_hurt(a, extra):
    c = math.floor(a) + extra
    assert 0 <= erlang_b(c, a) <= 1
    assert erlang_c(c + 1, a) <= erlang_c(c, a) + 1e-12
    f0, f1 = figures(a * 6, 10, c, 15), figures(a * 6, 10, c + 1, 15)
    assert f1.sl >= f0.sl - 1e-12 and f1.wq_min <= f0.wq_min + 1e-12
    q = wait_quantile(a * 6, 10, c, 0.9)
    assert 1 - figures(a * 6, 10, c, q).sl <= 0.1 + 1e-9


@settings(max_examples=200, deadline=None)
@given(rate=st.floats(0.1, 3000), aht=st.floats(1, 30), target=st.floats(0, 30), sl=st.floats(0.05, 0.95),
       occ=st.floats(0.5, 1.0))
def test_counters_needed_is_the_fewest(rate, aht, target, sl, occ):
    n, f = counters_needed(rate, aht, target, sl, occ)
    assert n == f.counters and f.sl >= sl and f.occupancy <= occ + 1e-9
    fewer = figures(rate, aht, n - 1, target)
    assert fewer.sl < sl or fewer.occupancy > occ or n - 1 <= fewer.erlangs


def test_no_load_and_overload():
    assert figures(0, 10, 0).p_wait == 0 and counters_needed(0, 10, 15, 0.8)[0] == 0
    over = figures(60, 10, 5)  # 10 Erlangs on 5 counters
    assert over.p_wait == 1 and math.isinf(over.wq_min) and over.sl == 0


def test_command_prints_json(capsys):
    assert main(["erlang", "--rate", "100", "--aht", "3", "--target-time", "0.3333333", "--counters", "7"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"p_wait", "wq_min", "sl", "occupancy"}
    ref = theirs(100, 3, 0.3333333)
    assert out["p_wait"] == pytest.approx(ref.waiting_probability(7), abs=1e-6)
    assert out["sl"] == pytest.approx(ref.service_level(7), abs=1e-6)
    assert main(["erlang", "--rate", "100", "--aht", "3", "--target-time", "0.3333333", "--target-sl", "0.8",
                 "--max-occupancy", "0.85"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counters"] == ref.required_positions(0.8, 0.85)["positions"]
