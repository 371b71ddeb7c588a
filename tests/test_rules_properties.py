"""Properties of the follower rules (sim/model/rules.py) on followers and parameters drawn at
random (hypothesis): credit stays within (-1, 1); a chance is a probability; the unfollow
hazard rises with annoyance and with debt and falls as the tie ages, and its two causes are
added (debt scales the baseline only, annoyance adds the flooding part); annoyance is a
saturating reaction to what a session shows (none seen: none added); asks draw on the balance
once a session; and one follower as plain numbers and many followers as numpy arrays give the
same answers.

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
    annoyance_growth,
    chance,
    credit,
    pass_time,
    spend_online_hour,
    tolerated_in_session,
    unfollow_hazard,
)


def _rules() -> Rules:
    c = settings()
    return Rules.from_config(c.behaviour, c.audience.attention.other_posts_per_day,
                             c.platform.mute_share if c.platform.mute else 0.0)


RULES = _rules()
ROUNDING = 1e-12


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# Parameters anywhere in the ranges the schema allows (sim/config/schema.py), within reason.
rules = st.builds(
    lambda base, **kw: dataclasses.replace(base, **kw),
    st.just(RULES),
    annoyance_keep=floats(1e-3, 1),
    balance_keep=floats(1e-3, 1),
    memory_keep=floats(1e-3, 1),
    credit_scale=floats(1e-3, 1e3),
    churn=floats(0, 1),
    flooding=floats(0, 10),
    debt_factor=floats(1, 20),
    mutual_factor=floats(1e-3, 1),
    acknowledged_factor=floats(1e-3, 1),
    youth_extra=floats(0, 20),
    youth_hours=floats(1e-2, 24 * 365),
    mute_share=floats(0, 1),
    sensitivity=floats(0, 1),
    value_credit=floats(0, 10),
    ask_cost=floats(0, 10),
    annoyance_gain=floats(0, 10),
    annoyance_saturation=floats(1e-3, 100),
    followee_fresh=floats(1e-3, 50),
)

# One follower's traits and state, as the engines give them (crowd > 0: a feed is never empty;
# tolerance > 1, as traits.draw_traits draws it). ``fair`` is still derived by the engines.
FIELDS = {
    "activity": floats(0, 1),
    "reads": floats(0.1, 1000),
    "crowd": floats(0.01, 1000),
    "fair": floats(0, 50),
    "interest": floats(1e-6, 1 - 1e-6),
    "tolerance": floats(1, 20),
    "fickleness": floats(1e-3, 100),
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
fresh = floats(0, 50)  # the account's posts near the top of feeds


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


@given(f=followers, r=rules)
def test_follow_back_and_an_answer_never_raise_the_hazard(f, r):
    assert hazard(f, r, mutual=1) <= hazard(f, r, mutual=0) * (1 + ROUNDING)
    assert hazard(f, r, acknowledged=1) <= hazard(f, r, acknowledged=0) * (1 + ROUNDING)


@given(f=followers, r=rules, annoyance=floats(0, 1e3), b1=floats(-1e3, 1e3),
       b2=floats(-1e3, 1e3))
def test_each_cause_of_leaving_is_counted_once(f, r, annoyance, b1, b2):
    """Added, not multiplied: the flooding part does not change with the balance, and the
    baseline part (what debt scales) does not change with annoyance."""
    h = {(a, b): hazard(f, r, annoyance=a, balance=b)
         for a in (0.0, annoyance) for b in (b1, b2)}
    scale = max(h.values())
    flooding_1 = h[annoyance, b1] - h[0.0, b1]
    flooding_2 = h[annoyance, b2] - h[0.0, b2]
    assert abs(flooding_1 - flooding_2) <= 1e-9 * scale
    debt_calm = h[0.0, b1] - h[0.0, b2]
    debt_annoyed = h[annoyance, b1] - h[annoyance, b2]
    assert abs(debt_calm - debt_annoyed) <= 1e-9 * scale


@given(f=followers, r=rules, annoyance=floats(0, 1e3))
def test_a_muted_followers_annoyance_adds_nothing_to_the_hazard(f, r, annoyance):
    assert hazard(f, r, muted=1, annoyance=annoyance) == hazard(f, r, muted=1, annoyance=0.0)


def test_the_directions_are_strict_where_the_mechanism_acts():
    f = {k: 0.5 for k in FIELDS} | {"mutual": 0, "muted": 0, "age": 24.0, "annoyance": 1.0,
                                    "balance": 0.0, "activity": 0.1, "acknowledged": 0}
    assert hazard(f, RULES, annoyance=2.0) > hazard(f, RULES)
    assert hazard(f, RULES, balance=-5.0) > hazard(f, RULES) > hazard(f, RULES, balance=5.0)
    assert hazard(f, RULES, age=24.0 * 365) < hazard(f, RULES)
    assert hazard(f, RULES, mutual=1) < hazard(f, RULES)
    assert hazard(f, RULES, acknowledged=1) < hazard(f, RULES)
    assert hazard(f, RULES, muted=1) < hazard(f, RULES)


# --- annoyance and the balance in a session ----------------------------------------------------

@given(r=rules, tolerated=floats(1, 1e3), a=floats(0, 1e9), b=floats(0, 1e9))
def test_a_sessions_annoyance_is_bounded_and_grows_with_what_is_seen(r, tolerated, a, b):
    fewer, more = sorted((a, b))
    low, high = annoyance_growth(fewer, tolerated, r), annoyance_growth(more, tolerated, r)
    assert 0 <= low <= high * (1 + ROUNDING)
    assert high <= r.annoyance_gain * r.annoyance_saturation * (1 + ROUNDING)
    if more <= tolerated:
        assert high == 0


@given(f=followers, r=rules, fresh_values=fresh, fresh_asks=fresh)
def test_the_tolerated_load_is_at_least_tolerance_times_one_post(f, r, fresh_values,
                                                                  fresh_asks):
    one = SimpleNamespace(**f)
    tolerated = tolerated_in_session(one, fresh_values, fresh_asks, r)
    assert tolerated >= f["tolerance"] * (1 - ROUNDING)
    assert tolerated <= f["tolerance"] * max(r.followee_fresh, 1.0) * (1 + ROUNDING)


@given(f=followers, r=rules, u=uniforms, fresh_values=fresh, fresh_asks=fresh)
def test_a_session_that_shows_nothing_adds_no_annoyance(f, r, u, fresh_values, fresh_asks):
    """Nothing fresh, or muted: whatever the memory holds, annoyance stays as it was."""
    quiet = SimpleNamespace(**f)
    spend_online_hour(quiet, 0.0, 0.0, u, r)
    assert quiet.annoyance == f["annoyance"]
    muted = SimpleNamespace(**{**f, "muted": 1})
    events = spend_online_hour(muted, fresh_values, fresh_asks, u, r)
    assert events.seen_values == events.seen_asks == 0
    assert muted.annoyance == f["annoyance"]


@given(f=followers, r=rules, u=uniforms, fresh_asks=fresh)
def test_asks_draw_on_the_balance_at_most_once_a_session(f, r, u, fresh_asks):
    one = SimpleNamespace(**f)
    events = spend_online_hour(one, 0.0, fresh_asks, u, r)
    drawn = f["balance"] - one.balance
    assert drawn == pytest.approx(r.ask_cost * min(events.seen_asks, 1.0), rel=1e-9, abs=1e-9)


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


@given(data=many, r=rules, fresh_values=fresh, fresh_asks=fresh,
       seen=st.lists(floats(0, 1e3), min_size=12, max_size=12))
def test_the_sessions_annoyance_on_one_follower_and_on_arrays_agree(data, r, fresh_values,
                                                                     fresh_asks, seen):
    rows, _ = data
    arrays = as_arrays(rows)
    tolerated = tolerated_in_session(arrays, fresh_values, fresh_asks, r)
    grown = annoyance_growth(np.array(seen[:len(rows)]), tolerated, r)
    for i, row in enumerate(rows):
        one = SimpleNamespace(**row)
        alone = tolerated_in_session(one, fresh_values, fresh_asks, r)
        same(alone, tolerated[i])
        same(annoyance_growth(seen[i], alone, r), grown[i])


@given(data=many, r=rules, fresh_values=fresh, fresh_asks=fresh)
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
