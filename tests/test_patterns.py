"""Calibration patterns P1-P10 (../shared/evidence/patterns.md) and the essay's claim.

Small audiences and a few seeds, so the tolerances are a little wider than the targets in
sim.experiment.patterns.TARGETS; the slow test checks the full table on bigger audiences.
docs/ODD.md quotes the full-size figures (python -m sim.patterns).

The patterns on ties (P2, P3, P4, P5, P7, P10) need thousands of followers watched for 51 days
on the agent engine (about a minute and a half together), so they run with ``-m slow``, as
does the full table, which checks every one of them again on bigger audiences.
"""

from __future__ import annotations

import functools

import pandas as pd
import pytest

from sim.config.compose import settings
from sim.experiment import patterns
from sim.experiment.run import simulate

SEEDS = (0, 1)


@functools.lru_cache(maxsize=None)
def ordinary():
    """Default parameters: enough unfollows for P2 and P7 on 6,000 followers."""
    return patterns.ordinary_account(6000, SEEDS)


@functools.lru_cache(maxsize=None)
def ties():
    """Ratios between kinds of ties need more unfollows than a small audience gives at the
    default churn; a raised churn (every other parameter at its default) gives them."""
    return patterns.ordinary_account(3000, SEEDS, "behaviour.leaving.churn=0.003")


def test_p1_a_steady_low_cadence_broadcaster_keeps_growing():
    assert 0.1 <= patterns.growth_per_day(2000, SEEDS) <= 0.3


@pytest.mark.slow
def test_p2_many_active_users_unfollow_someone_within_51_days():
    assert 0.28 <= ordinary()["P2"] <= 0.58


@pytest.mark.slow
def test_p3_one_way_ties_break_more_often_than_reciprocal_ones():
    assert 1.7 <= ties()["P3"] <= 3.6


@pytest.mark.slow
def test_p4_young_ties_are_more_fragile():
    assert ties()["P4"] > 1.0


@pytest.mark.slow
def test_p5_acknowledged_followers_stay():
    """Replies protect a tie even when it is one-way: counting them for nothing (same seeds)
    loses more of the one-way followers it answered. More replies to answer, answering all of
    them, and a raised churn make the difference visible on 3,000 followers."""
    assert patterns.acknowledgement_effect(3000, SEEDS, *patterns.P5_SETTINGS) > 1.1


def test_p6_diminishing_returns_of_posting_more():
    p6 = patterns.diminishing_returns(4000, SEEDS)
    assert 0.40 <= p6["P6a"] <= 0.75
    assert 0.60 <= p6["P6b"] <= 0.95
    assert p6["P6a"] < p6["P6b"]


@pytest.mark.slow
def test_p7_flooding_is_a_leading_reason_to_unfollow():
    assert 0.30 <= ordinary()["P7"] <= 0.60


@functools.lru_cache(maxsize=None)
def exposure():
    """(half-life of a post's impressions in minutes, share of its replies in its first hour)."""
    return patterns.impressions_half_life(2000, SEEDS[:1])


def test_p8_exposure_decays_fast():
    minutes, _ = exposure()
    assert 60 <= minutes <= 110


@pytest.mark.xfail(strict=True, reason="a known miss (docs/ODD.md, P8 replies): at hourly "
                   "resolution about half of a post's replies come in its first hour, not ~97 %")
def test_p8_nearly_all_replies_come_in_the_first_hour():
    _, first_hour = exposure()
    assert first_hour >= 0.9


def test_p9_attention_is_limited():
    assert patterns.attention_gradient(2000, SEEDS[:1]) < 0.8


@pytest.mark.slow
def test_p10_low_reciprocity_in_a_broadcast_audience():
    assert 0.17 <= ordinary()["P10"] <= 0.27


def test_the_essay_steady_keeps_more_followers_and_wins_more_actions_than_burst():
    rows = [simulate(settings(f"strategy={s}", "audience.size=2000", f"seed={seed}")).outcome
            for seed in (0, 1, 2) for s in ("steady", "burst")]
    mean = pd.concat(rows).groupby("strategy")[["followers_end", "actions", "unfollows"]].mean()
    assert mean.loc["steady", "followers_end"] > mean.loc["burst", "followers_end"]
    assert mean.loc["steady", "actions"] > mean.loc["burst", "actions"]


@pytest.mark.slow
def test_all_patterns_on_bigger_audiences():
    """The whole table on 8,000 followers and 4 seeds. P2 and P7 rest on about a hundred
    unfollows here (sampling error about 0.04), so their bands are widened by that much."""
    table = patterns.table(8000, list(range(4)))
    margin = table.pattern.isin(["P2", "P7"]) * 0.04
    within = (table.target_low - margin <= table.model) & (table.model <= table.target_high + margin)
    assert within.all(), table.to_string()
