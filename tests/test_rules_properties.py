"""Properties of the follower rules (sim/model/rules.py) on followers and parameters drawn at
random (hypothesis): credit stays within (-1, 1); a chance is a probability; the unfollow
hazard rises with annoyance and with debt and falls as the tie ages; and one follower as plain
numbers and many followers as numpy arrays give the same answers.

The examples are derandomized (see conftest.py): the suite gives the same verdict every run.
Comparisons of two hazards allow a relative 1e-12 for floating-point rounding.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.config.compose import settings
from sim.model.rules import (
    DRAWS_PER_ONLINE_HOUR,
    Rules,
    chance,
    credit,
    pass_time,
    spend_online_hour,
    unfollow_hazard,
)

RULES = Rules.from_config(settings().behaviour)
ROUNDING = 1e-12


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# Parameters anywhere in the ranges the schema allows (sim/config/schema.py), within reason.
rules = st.builds(
    lambda base, **kw: dataclasses.replace(base, **kw),
    st.just(RULES),
    credit_scale=floats(1e-3, 1e3),
    churn=floats(0, 1),
    flooding=floats(0, 10),
    debt_factor=floats(1, 20),
    mutual_factor=floats(1e-3, 1),
    youth_extra=floats(0, 20),
    youth_hours=floats(1e-2, 24 * 365),
    mute_share=floats(0, 1),
    sensitivity=floats(0, 1),
    annoyance_gain=floats(0, 10),
    annoyance_convexity=floats(1, 4),
)

# One follower's traits and state, as the engines give them (crowd > 0: a feed is never empty).
FIELDS = {
    "activity": floats(0, 1),
    "reads": floats(0.1, 1000),
    "crowd": floats(0.01, 1000),
    "fair": floats(0, 50),
    "interest": floats(1e-6, 1 - 1e-6),
    "tolerance": floats(1, 20),
    "mutual": st.integers(0, 1),
    "annoyance": floats(0, 1e3),
    "balance": floats(-1e3, 1e3),
    "recent": floats(0, 1e3),
    "age": floats(0, 1e5),
    "muted": st.integers(0, 1),
    "acknowledged": st.integers(0, 5),
}
followers = st.fixed_dictionaries(FIELDS)
uniforms = st.lists(floats(0, 1 - 1e-12), min_size=DRAWS_PER_ONLINE_HOUR,
                    max_size=DRAWS_PER_ONLINE_HOUR)


def hazard(f: dict, r: Rules, **changed) -> float:
    one = SimpleNamespace(**{**f, **changed})
    return unfollow_hazard(one, credit(one.balance, r), r)[0]


# --- bounds ---------------------------------------------------------------------------------

@given(balance=floats(-1e9, 1e9), r=rules)
def test_credit_lies_strictly_between_minus_one_and_one(balance, r):
    c = credit(balance, r)
    assert -1 < c < 1
    assert c * balance >= 0  # debt is negative credit, goodwill positive


@given(h=st.one_of(floats(0, 1e308), st.just(0.0)))
def test_chance_is_a_probability(h):
    assert 0.0 <= chance(h) <= 1.0


@given(f=followers, r=rules)
def test_the_hazard_is_a_rate_and_its_chance_a_probability(f, r):
    one = SimpleNamespace(**f)
    h, flooding_part = unfollow_hazard(one, credit(one.balance, r), r)
    assert h >= 0 and 0.0 <= chance(h) <= 1.0
    assert 0.0 <= flooding_part <= 1.0 + ROUNDING


# --- the unfollow hazard's direction ---------------------------------------------------------

@given(f=followers, r=rules, a=floats(0, 1e3), b=floats(0, 1e3))
def test_the_hazard_never_falls_as_annoyance_grows(f, r, a, b):
    low, high = sorted((a, b))
    assert hazard(f, r, annoyance=high) >= hazard(f, r, annoyance=low) * (1 - ROUNDING)


@given(f=followers, r=rules, a=floats(-1e3, 1e3), b=floats(-1e3, 1e3))
def test_the_hazard_never_falls_as_the_balance_sinks_into_debt(f, r, a, b):
    lower, higher = sorted((a, b))
    assert hazard(f, r, balance=lower) >= hazard(f, r, balance=higher) * (1 - ROUNDING)


@given(f=followers, r=rules, a=floats(0, 1e5), b=floats(0, 1e5))
def test_the_hazard_never_rises_as_the_tie_ages(f, r, a, b):
    young, old = sorted((a, b))
    assert hazard(f, r, age=old) <= hazard(f, r, age=young) * (1 + ROUNDING)


def test_the_directions_are_strict_where_the_mechanism_acts():
    f = {k: 0.5 for k in FIELDS} | {"mutual": 0, "muted": 0, "age": 24.0, "annoyance": 1.0,
                                    "balance": 0.0, "activity": 0.1}
    assert hazard(f, RULES, annoyance=2.0) > hazard(f, RULES)
    assert hazard(f, RULES, balance=-5.0) > hazard(f, RULES) > hazard(f, RULES, balance=5.0)
    assert hazard(f, RULES, age=24.0 * 365) < hazard(f, RULES)


# --- one follower and arrays of followers ------------------------------------------------------

many = st.integers(1, 12).flatmap(
    lambda n: st.tuples(st.lists(followers, min_size=n, max_size=n),
                        st.lists(uniforms, min_size=n, max_size=n)))


def as_arrays(rows: list[dict]) -> SimpleNamespace:
    return SimpleNamespace(**{k: np.array([row[k] for row in rows],
                                          dtype=np.int64 if isinstance(rows[0][k], int)
                                          else np.float64)
                              for k in FIELDS})


def same(one, column) -> None:
    assert float(one) == pytest.approx(float(column), rel=1e-12, abs=1e-300)


@given(data=many, r=rules)
def test_pass_time_on_one_follower_and_on_arrays_agree(data, r):
    rows, _ = data
    arrays = as_arrays(rows)
    pass_time(arrays, r)
    for i, row in enumerate(rows):
        one = SimpleNamespace(**row)
        pass_time(one, r)
        for key in ("annoyance", "balance", "recent"):
            same(getattr(one, key), getattr(arrays, key)[i])


@given(data=many, r=rules)
def test_unfollow_hazard_on_one_follower_and_on_arrays_agree(data, r):
    rows, _ = data
    arrays = as_arrays(rows)
    together = unfollow_hazard(arrays, credit(arrays.balance, r), r)
    for i, row in enumerate(rows):
        one = SimpleNamespace(**row)
        alone = unfollow_hazard(one, credit(one.balance, r), r)
        for x, column in zip(alone, together):
            same(x, column[i])


@given(data=many, r=rules, fresh_values=floats(0, 50), fresh_asks=floats(0, 50))
def test_an_online_hour_on_one_follower_and_on_arrays_agree(data, r, fresh_values, fresh_asks):
    rows, draws = data
    arrays = as_arrays(rows)
    u = np.array(draws).T  # one row per draw, one column per follower
    together = spend_online_hour(arrays, fresh_values, fresh_asks, u, r)
    for i, row in enumerate(rows):
        one = SimpleNamespace(**row)
        alone = spend_online_hour(one, fresh_values, fresh_asks, draws[i], r)
        for name, x, column in zip(alone._fields, alone, together):
            assert np.isfinite(float(x)), name
            same(x, column[i])
        for key in ("annoyance", "balance", "recent", "muted"):
            same(getattr(one, key), getattr(arrays, key)[i])
