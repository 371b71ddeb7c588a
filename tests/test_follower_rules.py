"""The follower's rules one at a time, on one follower and on arrays of followers.

Each test pins one mechanism of docs/ODD.md: removing the mechanism from sim/model/rules.py
makes its test fail.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.config.compose import settings
from sim.model.rules import (
    DRAWS_PER_ONLINE_HOUR,
    Rules,
    acknowledge,
    annoy,
    credit,
    is_online,
    pass_time,
    post_visibility,
    read_feed,
    spend_online_hour,
    stochastic_round,
    unfollow_hazard,
)

RULES = Rules.from_config(settings().behaviour)


def follower(**kw):
    base = dict(activity=0.1, reads=40.0, crowd=30.0, fair=2.0, interest=0.5, tolerance=2.0,
                mutual=0, annoyance=0.0, balance=0.0, recent=0.0, age=24.0 * 365, muted=0,
                acknowledged=0)
    base.update(kw)
    return SimpleNamespace(**base)


# 1. Limited attention ------------------------------------------------------------------------

def test_a_crowded_feed_shows_fewer_of_the_accounts_posts():
    u = np.full(2, 0.5)
    calm = read_feed(follower(crowd=10.0, reads=20.0), 4.0, 0.0, *u)[0]
    crowded = read_feed(follower(crowd=400.0, reads=20.0), 4.0, 0.0, *u)[0]
    assert calm == 4.0 and crowded == 0.0


def test_a_bigger_attention_budget_sees_more():
    few = read_feed(follower(reads=5.0, crowd=50.0), 10.0, 0.0, 0.5, 0.5)[0]
    many = read_feed(follower(reads=50.0, crowd=50.0), 10.0, 0.0, 0.5, 0.5)[0]
    assert many > few


def test_a_posts_visibility_halves_in_about_80_minutes():
    fresh = post_visibility(0.0, 1, RULES)
    later = post_visibility(fresh, 0, RULES)
    assert 2 ** (-60 / 70) < later / fresh < 2 ** (-60 / 90)


def test_online_follows_the_daily_rhythm_and_inactive_never_log_in():
    f = follower(activity=0.2)
    u = np.random.default_rng(0).random(20_000)
    night, evening = is_online(f, 0.2, u).mean(), is_online(f, 1.6, u).mean()
    assert night < 0.06 < 0.3 < evening
    assert not is_online(follower(activity=0.0), 1.6, u).any()


def test_a_muted_follower_sees_nothing():
    assert read_feed(follower(muted=1), 5.0, 5.0, 0.9, 0.9) == (0.0, 0.0)


# 2. Annoyance --------------------------------------------------------------------------------

def test_annoyance_builds_only_past_tolerance():
    calm, flooded = follower(recent=3.0), follower(recent=12.0)  # tolerated: 2 x 2 = 4
    annoy(calm, RULES)
    annoy(flooded, RULES)
    assert calm.annoyance == 0 and flooded.annoyance > 0


def _annoyance_after(posts_by_hour, **kw):
    """Drive one always-online follower through hours with the given fresh posts."""
    f = follower(activity=1.0, reads=1e9, crowd=1.0, **kw)
    u = [0.5] * 6 + [1.0, 1.0]  # never leaves
    for posts in posts_by_hour:
        pass_time(f, RULES)
        spend_online_hour(f, float(posts), 0.0, u, RULES)
    return f.annoyance


def test_a_flood_hurts_more_than_the_same_posts_spread_out():
    flood = [12] + [0] * 71
    spread_out = ([4] + [0] * 23) * 3
    assert _annoyance_after(flood) > 1.5 * _annoyance_after(spread_out)


def test_memory_is_what_makes_a_flood_after_silence_count():
    """Posts remembered from days before add to today's: with a short memory, three daily
    batches hurt far less than with the default three-day memory."""
    batches = ([5] + [0] * 23) * 3
    short = Rules.from_config(settings("behaviour.feed.memory_half_life_hours=2").behaviour)
    f = follower(activity=1.0, reads=1e9, crowd=1.0)
    for posts in batches:
        pass_time(f, short)
        spend_online_hour(f, float(posts), 0.0, [0.5] * 6 + [1.0, 1.0], short)
    assert _annoyance_after(batches) > 2 * f.annoyance


def test_annoyance_fades_slowly():
    f = follower(annoyance=1.0)
    for _ in range(24):
        pass_time(f, RULES)
    assert 0.5 < f.annoyance < 1.0


# 3. Reciprocity ------------------------------------------------------------------------------

def test_the_balance_erodes_in_silence():
    f = follower(balance=5.0)
    for _ in range(24 * 30):
        pass_time(f, RULES)
    assert f.balance < 5.0 / 5


def test_value_adds_and_asks_draw_on_the_balance():
    u = [0.99] * DRAWS_PER_ONLINE_HOUR
    given = follower(reads=100.0, crowd=1.0)
    spend_online_hour(given, 1.0, 0.0, u, RULES)
    asked = follower(reads=100.0, crowd=1.0)
    spend_online_hour(asked, 0.0, 1.0, u, RULES)
    assert given.balance > 0 > asked.balance


def test_replies_acknowledge_the_follower():
    f = follower()
    acknowledge(f, 2, RULES)
    assert f.balance == 2 * RULES.reply_credit and f.acknowledged == 2


def test_credit_is_bounded():
    assert -1 < credit(-1e9, RULES) < credit(0.0, RULES) == 0 < credit(1e9, RULES) < 1


# 4.-5. Engagement and actions ----------------------------------------------------------------

def _mean_events(n=20_000, fresh_values=1.0, fresh_asks=1.0, **kw):
    rng = np.random.default_rng(1)
    f = follower(**{k: np.full(n, v, dtype=float) for k, v in follower(**kw).__dict__.items()})
    u = rng.random((DRAWS_PER_ONLINE_HOUR, n))
    events = spend_online_hour(f, fresh_values, fresh_asks, u, RULES)
    return [np.mean(e) for e in events]


def test_engagement_and_actions_grow_with_interest():
    low, high = _mean_events(interest=0.1), _mean_events(interest=0.9)
    for i in (2, 3, 4, 5):  # likes, comments, shares, actions
        assert high[i] > low[i]


def test_credit_makes_engagement_and_actions_likelier():
    debt, goodwill = _mean_events(balance=-10.0), _mean_events(balance=10.0)
    assert goodwill[2] > debt[2] and goodwill[5] > debt[5]


def test_posts_seen_lately_satiate_likes():
    fresh, satiated = _mean_events(recent=0.0), _mean_events(recent=5.0)
    assert satiated[2] < 0.5 * fresh[2]


# 6. Unfollow and mute ------------------------------------------------------------------------

def hazard(**kw):
    f = follower(**kw)
    return unfollow_hazard(f, credit(f.balance, RULES), RULES)[0]


def test_the_hazard_rises_with_annoyance_and_debt():
    assert hazard(annoyance=5.0) > hazard() and hazard(balance=-10.0) > hazard()


def test_the_hazard_falls_with_the_age_of_the_tie_and_with_interest():
    assert hazard(age=1.0) > hazard(age=24.0 * 60) > hazard(age=24.0 * 3650)
    assert hazard(interest=0.1) > hazard(interest=0.9)


def test_follow_back_ties_are_sturdier():
    assert hazard(mutual=1) == pytest.approx(RULES.mutual_factor * hazard(mutual=0))


def test_a_baseline_churn_remains():
    assert hazard(annoyance=0.0, balance=0.0) > 0


def test_some_leavers_mute_instead():
    n = 50_000
    out = _mean_events(n=n, annoyance=1e7)  # everyone leaves
    unfollows, mutes = out[6], out[7]  # HourEvents.unfollows, .mutes
    assert unfollows + mutes == pytest.approx(1.0)
    assert mutes == pytest.approx(RULES.mute_share, abs=0.01)


# The same rules on one follower and on arrays ------------------------------------------------

def test_one_follower_and_arrays_give_the_same_answer():
    rng = np.random.default_rng(7)
    n = 60
    start = follower(reads=rng.random(n) * 50, crowd=rng.random(n) * 50, recent=rng.random(n) * 8,
                     annoyance=rng.random(n) * 3, balance=rng.normal(size=n) * 3,
                     interest=rng.random(n), mutual=rng.integers(0, 2, n),
                     age=rng.random(n) * 1000, muted=rng.integers(0, 2, n),
                     activity=np.where(rng.random(n) < 0.2, 0.0, rng.random(n)),
                     fair=rng.random(n) * 3, tolerance=1 + rng.random(n) * 2,
                     acknowledged=rng.integers(0, 3, n))
    u = rng.random((DRAWS_PER_ONLINE_HOUR + 1, n))

    def hour(f, draws, rhythm=1.3):
        pass_time(f, RULES)
        online = is_online(f, rhythm, draws[0])
        events = spend_online_hour(f, 3.0, 2.0, draws[1:], RULES)
        acknowledge(f, 1, RULES)
        return (online, *events)

    arrays = SimpleNamespace(**{k: np.copy(v) if isinstance(v, np.ndarray) else v
                                for k, v in vars(start).items()})
    together = hour(arrays, u)
    assert all(np.isfinite(np.asarray(e, dtype=float)).all() for e in together)
    for i in range(n):
        one = SimpleNamespace(**{k: v[i].item() if isinstance(v, np.ndarray) else v
                                 for k, v in vars(start).items()})
        alone = hour(one, [x.item() for x in u[:, i]])
        assert [float(e) for e in alone] == pytest.approx([float(e[i]) for e in together])
        for key in ("annoyance", "balance", "recent", "muted", "acknowledged"):
            assert getattr(one, key) == pytest.approx(getattr(arrays, key)[i])


def test_stochastic_round_is_unbiased():
    u = np.random.default_rng(3).random(100_000)
    assert stochastic_round(2.3, u).mean() == pytest.approx(2.3, abs=0.01)
