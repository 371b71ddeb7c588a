"""The follower's rules one at a time, on one follower and on arrays of followers.

Each test pins one mechanism of sim/model/rules.py ("Model 2"): removing the mechanism from the
rules makes its test fail. The follower is a SimpleNamespace with the attributes the engines
give (``fair`` is still derived by the engines, though the rules no longer use it).
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from sim.config.compose import settings
from sim.model.rules import (
    DRAWS_PER_ONLINE_HOUR,
    Rules,
    acknowledge,
    annoyance_growth,
    chance,
    credit,
    is_online,
    newcomers,
    pass_time,
    post_visibility,
    read_feed,
    spend_online_hour,
    stochastic_round,
    tolerated_in_session,
    unfollow_hazard,
)


def rules_from(*overrides: str) -> Rules:
    """The rules as the model builds them from these settings."""
    c = settings(*overrides)
    return Rules.from_config(c.behaviour, c.audience.attention.other_posts_per_day,
                             c.platform.mute_share if c.platform.mute else 0.0)


RULES = rules_from()
# Followees who post a lot: an average followee shows a reader more than one post a session,
# so what a follower tolerates depends on how much they read (the floor of one post is off).
BUSY = rules_from("audience.attention.other_posts_per_day=100")
NEVER_LEAVES = [0.5] * 6 + [1.0, 1.0]  # u_leave = 1 is never below a chance


def follower(**kw):
    base = dict(activity=0.1, reads=40.0, crowd=30.0, fair=2.0, interest=0.5, tolerance=2.0,
                fickleness=1.0, mutual=0, annoyance=0.0, balance=0.0, recent=0.0, age=24.0 * 365, muted=0,
                acknowledged=0)
    base.update(kw)
    return SimpleNamespace(**base)


def reads_everything(**kw):
    """A follower who reads the whole feed: sees every fresh post of the account (an integer
    number of fresh posts gives exactly that many seen)."""
    return follower(reads=1e9, crowd=10.0, **kw)


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


# 2. Annoyance: a reaction to what a session shows ----------------------------------------------

def test_a_session_that_shows_none_of_the_accounts_posts_adds_no_annoyance():
    """Whatever the memory of earlier posts holds: annoyance is not a grudge about the past."""
    for recent in (0.0, 50.0, 1e4):
        f = reads_everything(recent=recent, annoyance=0.3)
        events = spend_online_hour(f, 0.0, 0.0, NEVER_LEAVES, RULES)
        assert events.seen_values == events.seen_asks == 0
        assert f.annoyance == 0.3


def test_annoyance_is_judged_on_the_session_not_on_memory():
    """The same session annoys as much whether or not the follower saw the account lately."""
    grown = []
    for recent in (0.0, 3.0, 1e3):
        f = reads_everything(recent=recent)
        spend_online_hour(f, 12.0, 0.0, NEVER_LEAVES, RULES)
        grown.append(f.annoyance)
    assert grown[0] > 0
    assert grown == pytest.approx([grown[0]] * 3, rel=1e-12)


def test_an_online_hour_adds_that_sessions_annoyance():
    f = reads_everything(recent=3.0, annoyance=0.5)
    tolerated = tolerated_in_session(f, 6.0, 2.0, RULES)
    events = spend_online_hour(f, 6.0, 2.0, NEVER_LEAVES, RULES)
    assert (events.seen_values, events.seen_asks) == (6.0, 2.0)
    assert f.annoyance == pytest.approx(0.5 + annoyance_growth(8.0, tolerated, RULES), rel=1e-12)
    assert f.annoyance > 0.5


def test_what_a_follower_tolerates_in_a_session():
    """tolerance x max(posts read in the session x an average followee's share of the feed, 1)."""
    assert BUSY.followee_fresh > 1 > RULES.followee_fresh
    # An average followee shows a reader at most followee_fresh posts; with the default
    # followees that is less than one, so everyone tolerates their tolerance times one post.
    for reads, crowd in ((1.0, 30.0), (40.0, 30.0), (500.0, 800.0), (1e6, 5.0)):
        f = follower(reads=reads, crowd=crowd, tolerance=2.5)
        assert tolerated_in_session(f, 3.0, 1.0, RULES) == pytest.approx(2.5)
    # With busy followees it depends on what is read in the session.
    f = follower(reads=20.0, crowd=100.0, tolerance=2.0)
    expected = 2.0 * 20.0 * BUSY.followee_fresh / (100.0 + 8.0 + 2.0)
    assert expected > 2.0
    assert tolerated_in_session(f, 8.0, 2.0, BUSY) == pytest.approx(expected, rel=1e-12)
    # No one reads more than the feed holds: reading it all is the most that counts.
    everything = follower(reads=1e6, crowd=100.0, tolerance=2.0)
    assert tolerated_in_session(everything, 8.0, 2.0, BUSY) == pytest.approx(
        2.0 * BUSY.followee_fresh, rel=1e-12)
    # Never less than tolerance times one post.
    skimmer = follower(reads=1.0, crowd=100.0, tolerance=2.0)
    assert tolerated_in_session(skimmer, 8.0, 2.0, BUSY) == pytest.approx(2.0)


def test_seeing_no_more_than_one_tolerated_load_never_annoys():
    for reads in (1.0, 40.0, 1e4):
        f = follower(reads=reads, tolerance=2.0)
        tolerated = tolerated_in_session(f, 2.0, 0.0, RULES)
        assert annoyance_growth(2.0, tolerated, RULES) == 0
        assert annoyance_growth(3.0, tolerated, RULES) > 0


def test_light_and_heavy_readers_are_treated_alike_for_the_same_share_of_their_reading():
    fresh, crowd = 40.0, 100.0
    grown = []
    for reads in (20.0, 80.0):
        f = follower(reads=reads, crowd=crowd, tolerance=2.0)
        seen = fresh * reads / (crowd + fresh)  # the same share of what each reads
        grown.append(annoyance_growth(seen, tolerated_in_session(f, fresh, 0.0, BUSY), BUSY))
    assert grown[0] > 0
    assert grown[1] == pytest.approx(grown[0], rel=1e-12)


@pytest.mark.parametrize("half_life", [3.0, 12.0, 40.0])
def test_annoyance_fades_with_its_half_life_in_hours(half_life):
    r = rules_from(f"behaviour.annoyance.half_life_hours={half_life}")
    f = follower(annoyance=1.0)
    for _ in range(round(half_life)):
        pass_time(f, r)
    assert f.annoyance == pytest.approx(2 ** (-round(half_life) / half_life), rel=1e-9)


def test_by_default_annoyance_is_gone_within_days():
    f = follower(annoyance=1.0)
    for _ in range(12):
        pass_time(f, RULES)
    assert f.annoyance == pytest.approx(0.5)
    for _ in range(24 * 3 - 12):
        pass_time(f, RULES)
    assert f.annoyance < 0.02


def test_posts_within_tolerance_spread_over_sessions_never_annoy_but_one_flood_does():
    def annoyance_after(posts_by_hour):
        f = reads_everything(tolerance=2.0)
        most = 0.0
        for posts in posts_by_hour:
            pass_time(f, RULES)
            spend_online_hour(f, float(posts), 0.0, NEVER_LEAVES, RULES)
            most = max(most, f.annoyance)
        return most

    assert annoyance_after([2] * 6) == 0
    assert annoyance_after([12] + [0] * 5) > 1


# 3. The response saturates ------------------------------------------------------------------

@pytest.mark.parametrize("gain, saturation", [(1.0, 5.0), (2.0, 3.0), (0.5, 30.0)])
def test_a_deluge_annoys_at_most_gain_times_saturation(gain, saturation):
    r = dataclasses.replace(RULES, annoyance_gain=gain, annoyance_saturation=saturation)
    tolerated = 2.0
    seen = np.array([2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 20.0, 100.0, 1e4, 1e9])
    grown = annoyance_growth(seen, tolerated, r)
    assert grown[0] == 0
    assert np.all(np.diff(grown) > 0)  # more seen, more annoyed
    assert np.all(grown < gain * saturation)
    assert grown[-1] > 0.999 * gain * saturation  # and it gets there
    # A little over is felt in proportion: linear for a small excess.
    for excess in (1e-3, 1e-2):
        assert annoyance_growth(tolerated * (1 + excess), tolerated, r) == pytest.approx(
            gain * excess, rel=2 * excess / saturation)


# 4. Reciprocity ------------------------------------------------------------------------------

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


def test_asks_seen_in_one_session_draw_on_the_balance_once():
    """A campaign is one request to the relationship; useful posts each count."""
    for asks in (1.0, 3.0, 10.0):
        f = reads_everything(balance=2.0)
        events = spend_online_hour(f, 0.0, asks, NEVER_LEAVES, RULES)
        assert events.seen_asks == asks
        assert f.balance == pytest.approx(2.0 - RULES.ask_cost)
    f = reads_everything(balance=2.0)
    spend_online_hour(f, 3.0, 5.0, NEVER_LEAVES, RULES)
    assert f.balance == pytest.approx(2.0 + 3 * RULES.value_credit - RULES.ask_cost)
    f = reads_everything(balance=2.0)
    spend_online_hour(f, 0.0, 0.0, NEVER_LEAVES, RULES)
    assert f.balance == 2.0


def test_replies_acknowledge_the_follower():
    f = follower()
    acknowledge(f, 2, RULES)
    assert f.balance == 2 * RULES.reply_credit and f.acknowledged == 2


def test_credit_is_bounded():
    assert -1 < credit(-1e9, RULES) < credit(0.0, RULES) == 0 < credit(1e9, RULES) < 1


# 5. Engagement and actions ---------------------------------------------------------------------

def _mean_events(n=20_000, fresh_values=1.0, fresh_asks=1.0, r=RULES, **kw):
    """Mean events of n copies of one follower, with stratified draws (a small, fixed error)."""
    rng = np.random.default_rng(1)
    f = follower(**{k: np.full(n, v, dtype=float) for k, v in follower(**kw).__dict__.items()})
    strata = (np.arange(n) + 0.5) / n
    u = np.array([rng.permutation(strata) for _ in range(DRAWS_PER_ONLINE_HOUR)])
    events = spend_online_hour(f, fresh_values, fresh_asks, u, r)
    return events._replace(**{k: np.mean(v) for k, v in events._asdict().items()})


def test_engagement_and_actions_grow_with_interest():
    low, high = _mean_events(interest=0.1), _mean_events(interest=0.9)
    for name in ("likes", "comments", "shares", "actions"):
        assert getattr(high, name) > getattr(low, name)


def test_credit_makes_engagement_and_actions_likelier():
    debt, goodwill = _mean_events(balance=-10.0), _mean_events(balance=10.0)
    assert goodwill.likes > debt.likes and goodwill.actions > debt.actions


@pytest.mark.parametrize("event, satiation", [("likes", "like_satiation"),
                                              ("comments", "comment_satiation"),
                                              ("shares", "share_satiation"),
                                              ("actions", "act_satiation")])
def test_posts_seen_lately_satiate(event, satiation):
    """Each event per seen post is divided by 1 + satiation x posts seen lately (those
    remembered, and half of this hour's others: two are seen here, so half of one)."""
    r = dataclasses.replace(RULES, like=0.5, comment=0.5, share=0.5, act=0.5)
    s = getattr(r, satiation)
    assert s > 0
    first = getattr(_mean_events(recent=0.0, r=r), event)
    satiated = getattr(_mean_events(recent=5.0, r=r), event)
    assert first > 0.02
    assert satiated == pytest.approx(first * (1 + s * 0.5) / (1 + s * 5.5), rel=0.03)


# 6. Unfollow and mute ------------------------------------------------------------------------

def hazard(r=RULES, **kw):
    f = follower(**kw)
    return unfollow_hazard(f, credit(f.balance, r), r)[0]


def flooding_part(r=RULES, **kw):
    f = follower(**kw)
    return unfollow_hazard(f, credit(f.balance, r), r)[1]


def test_the_hazard_rises_with_annoyance_and_debt():
    assert hazard(annoyance=5.0) > hazard() and hazard(balance=-10.0) > hazard()


def test_the_hazard_falls_with_the_age_of_the_tie_and_with_interest():
    assert hazard(age=1.0) > hazard(age=24.0 * 60) == hazard(age=24.0 * 3650)
    assert hazard(interest=0.1) > hazard(interest=0.9)


def test_a_new_follower_is_on_trial_at_one_raised_hazard_until_the_trial_ends():
    """P11: few gone after a week, several times as many after three: the hazard stays
    raised through the trial (a hazard that fell from the first hour could not give that)."""
    trial = RULES.youth_hours
    on_trial = [hazard(age=a) for a in (0.0, trial / 3, trial - 1.0)]
    assert on_trial == pytest.approx([on_trial[0]] * 3, rel=1e-12)
    assert on_trial[0] == pytest.approx((1 + RULES.youth_extra) * hazard(age=trial), rel=1e-12)


def test_fickleness_scales_every_reason_to_leave():
    """P2 with P11a: people differ in how readily they unfollow anyone, whatever the cause."""
    for kw in (dict(), dict(annoyance=5.0), dict(balance=-10.0, age=30.0)):
        assert hazard(fickleness=3.0, **kw) == pytest.approx(3.0 * hazard(**kw), rel=1e-12)
    assert flooding_part(fickleness=3.0, annoyance=5.0) == pytest.approx(
        flooding_part(annoyance=5.0), rel=1e-12)


def test_a_baseline_churn_remains():
    assert hazard(annoyance=0.0, balance=0.0) > 0


def test_debt_scales_only_the_baseline_and_annoyance_is_added():
    """Each cause counted once: the flooding part of the hazard does not change with the
    balance, and the baseline part does not change with annoyance."""
    young = dict(age=30.0, mutual=1, acknowledged=1)  # the multipliers common to both
    flooding = [hazard(balance=b, annoyance=5.0, **young) - hazard(balance=b, **young)
                for b in (-20.0, 0.0, 20.0)]
    assert flooding[0] > 0
    assert flooding == pytest.approx([flooding[0]] * 3, rel=1e-9)
    youth = 1 + RULES.youth_extra
    bond = RULES.mutual_factor * RULES.acknowledged_factor
    assert flooding[0] == pytest.approx(youth * bond * RULES.flooding * 5.0, rel=1e-9)
    debt = [hazard(balance=-20.0, annoyance=a, **young) - hazard(balance=20.0, annoyance=a,
                                                                 **young)
            for a in (0.0, 5.0, 50.0)]
    assert debt[0] > 0
    assert debt == pytest.approx([debt[0]] * 3, rel=1e-9)


def test_the_flooding_part_is_the_share_of_the_hazard_annoyance_causes():
    assert flooding_part(annoyance=0.0) == 0
    calm, annoyed = hazard(balance=-3.0), hazard(balance=-3.0, annoyance=2.0)
    assert flooding_part(balance=-3.0, annoyance=2.0) == pytest.approx(
        (annoyed - calm) / annoyed, rel=1e-9)


def test_follow_back_ties_are_sturdier():
    assert hazard(mutual=1) == pytest.approx(RULES.mutual_factor * hazard(mutual=0))
    assert hazard(mutual=1, annoyance=3.0) == pytest.approx(
        RULES.mutual_factor * hazard(mutual=0, annoyance=3.0))


def test_a_tie_the_account_has_answered_is_sturdier():
    assert RULES.acknowledged_factor < 1
    for annoyance in (0.0, 3.0):
        once = hazard(acknowledged=1, annoyance=annoyance)
        assert once == pytest.approx(RULES.acknowledged_factor * hazard(annoyance=annoyance))
        assert hazard(acknowledged=4, annoyance=annoyance) == pytest.approx(once)  # at most once
    both = hazard(acknowledged=1, mutual=1)
    assert both == pytest.approx(RULES.acknowledged_factor * RULES.mutual_factor * hazard())


def test_an_answered_follower_is_less_likely_to_leave():
    f = follower(annoyance=5.0)
    before = hazard(annoyance=5.0)
    acknowledge(f, 1, RULES)
    after = unfollow_hazard(f, credit(f.balance, RULES), RULES)[0]
    assert after < RULES.acknowledged_factor * before  # and the reply's credit on top


def test_a_muted_followers_annoyance_adds_nothing_to_the_hazard():
    """Muting is relief: a muted follower still may leave, but not for being flooded."""
    calm = hazard(muted=1)
    assert hazard(muted=1, annoyance=100.0) == calm == hazard(muted=0) > 0
    assert flooding_part(muted=1, annoyance=100.0) == 0
    assert hazard(muted=0, annoyance=100.0) > 10 * calm


def test_a_muted_follower_sees_nothing_and_is_not_annoyed():
    assert read_feed(follower(muted=1), 5.0, 5.0, 0.9, 0.9) == (0.0, 0.0)
    f = reads_everything(muted=1, annoyance=0.2, balance=1.0)
    events = spend_online_hour(f, 50.0, 20.0, NEVER_LEAVES, RULES)
    assert events.seen_values == events.seen_asks == events.likes == 0
    assert f.annoyance == 0.2 and f.balance == 1.0 and f.muted == 1


def test_some_leavers_mute_instead_where_the_platform_has_mute():
    out = _mean_events(n=50_000, annoyance=1e7)  # everyone leaves
    assert out.unfollows + out.mutes == pytest.approx(1.0)
    assert RULES.mute_share == 0.3
    assert out.mutes == pytest.approx(RULES.mute_share, abs=0.01)


def test_without_mute_every_leaver_unfollows():
    no_mute = rules_from("platform=twitter_2011")
    assert no_mute.mute_share == 0 == rules_from("strategy=obama_2011").mute_share
    out = _mean_events(n=20_000, annoyance=1e7, r=no_mute)
    assert out.unfollows == 1.0 and out.mutes == 0


def test_a_muted_follower_who_leaves_unfollows():
    out = _mean_events(n=20_000, muted=1, interest=0.0, balance=-1e6,
                       r=dataclasses.replace(RULES, churn=1e4))
    assert out.unfollows == 1.0 and out.mutes == 0


def test_a_leaving_chance_is_a_probability():
    assert chance(0.0) == 0 and 0 < chance(0.1) < 0.1 and chance(1e9) == 1


# 7. Growth: newcomers -------------------------------------------------------------------------

class Spy:
    """A generator that records the mean of the Poisson draw it is asked for."""

    def poisson(self, lam):
        self.lam = lam
        return 0


def expected_newcomers(shares=0, replies=0, followers=0, fame=0.0, **growth):
    g = SimpleNamespace(**({"share_reach": 30.0, "reply_reach": 20.0, "conversion": 0.01}
                           | growth))
    spy = Spy()
    assert newcomers(shares, replies, followers, fame, g, spy) == 0
    return spy.lam


def test_newcomers_come_from_shares_replies_and_fame():
    assert expected_newcomers() == 0
    assert expected_newcomers(followers=10_000) == 0  # an ordinary account: no fame
    assert expected_newcomers(shares=4) == pytest.approx(4 * 30.0 * 0.01)
    assert expected_newcomers(replies=5) == pytest.approx(5 * 20.0 * 0.01)
    assert expected_newcomers(followers=24_000, fame=0.002) == pytest.approx(2.0)
    assert expected_newcomers(shares=4, replies=5, followers=24_000, fame=0.002) == \
        pytest.approx(1.2 + 1.0 + 2.0)
    assert expected_newcomers(replies=5, reply_reach=0.0, shares=4, share_reach=0.0) == 0


def test_newcomers_are_a_poisson_count_with_that_mean():
    rng = np.random.default_rng(5)
    g = SimpleNamespace(share_reach=30.0, reply_reach=20.0, conversion=0.01)
    draws = [newcomers(10, 5, 1000, 0.0, g, rng) for _ in range(4000)]
    assert np.mean(draws) == pytest.approx(4.0, rel=0.05)


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
        tolerated = tolerated_in_session(f, 3.0, 2.0, BUSY)
        events = spend_online_hour(f, 3.0, 2.0, draws[1:], RULES)
        acknowledge(f, 1, RULES)
        return (online, tolerated, *events)

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
