"""The model as a whole: each mechanism is wired in (switching it off changes what happens),
strategies spend what they say, newcomers arrive as the account behaves (shares, replies) or
as it is famous, the platform decides whether leavers can mute, the account can follow back
and stop following back on both engines, and the same seed gives the same tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import AccountView, Plan, Strategy
from sim.config.compose import make_strategy, settings
from sim.errors import StrategyError
from sim.experiment.run import simulate
from sim.io.tables import timeseries
from sim.model.agent_engine import AudienceModel, Follower
from sim.model.engines import build
from sim.model.strategies import Burst

SMALL = ("audience.size=1500", "days=12", "budget.asks=30")
BURST = ("strategy=burst", "strategy.burst_day=8") + SMALL


def total(result, column):
    return int(result.timeseries[column].sum())


def test_same_seed_same_tables_and_another_seed_differs():
    a = simulate(settings("strategy=burst", "strategy.burst_day=8", *SMALL[:2], "seed=5"))
    b = simulate(settings("strategy=burst", "strategy.burst_day=8", *SMALL[:2], "seed=5"))
    c = simulate(settings("strategy=burst", "strategy.burst_day=8", *SMALL[:2], "seed=6"))
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.outcome, b.outcome)
    assert not a.timeseries.equals(c.timeseries)


def test_steady_and_burst_spend_the_same_posts_and_asks(run):
    steady, burst = run("strategy=steady", *SMALL), run(*BURST)
    for column in ("posts", "asks"):
        assert steady.outcome[column].iloc[0] == burst.outcome[column].iloc[0] > 0


def test_burst_packs_its_asks_into_the_window(run):
    ts = run(*BURST).timeseries
    start = 8 * 24 + 12
    assert ts.asks.iloc[start:start + 6].sum() == ts.asks.sum() == 30


def test_a_burst_that_fills_every_staffed_hour_still_spends_its_budget():
    burst = Burst(posts_per_day=4, asks=3, reply_share=0, reply_capacity=0, quiet_share=0.5,
                  burst_day=0, burst_hour=8, burst_hours=14)
    burst.start(24)
    assert sum(burst.value_schedule.values()) == 4 and sum(burst.ask_schedule.values()) == 3
    outside = Burst(posts_per_day=1, asks=3, reply_share=0, reply_capacity=0, quiet_share=0,
                    burst_day=5, burst_hour=0, burst_hours=6)
    with pytest.raises(StrategyError, match="outside the run"):
        outside.start(48)


def test_broadcast_never_replies_and_silent_never_posts(run):
    assert total(run("strategy=broadcast", *SMALL), "replies_given") == 0
    assert total(run("strategy=steady", *SMALL), "replies_given") > 0
    silent = run("strategy=silent", *SMALL)
    assert total(silent, "posts") == total(silent, "impressions") == 0


def test_steady_answers_its_share_of_the_replies_it_gets(run):
    r = run("strategy=steady", *SMALL, "strategy.reply_share=0.5")
    comments, answered = total(r, "comments"), total(r, "replies_given")
    assert comments > 10 and 0.35 * comments <= answered <= 0.65 * comments


def test_the_timeseries_has_one_row_an_hour_and_followers_add_up(run):
    r = run("strategy=steady", *SMALL)
    ts = r.timeseries
    assert list(ts.hour) == list(range(12 * 24))
    start = r.outcome.followers_start.iloc[0]
    assert ts.followers.iloc[-1] == start + ts.follows.sum() - ts.unfollows.sum()


# Ablations: switch a mechanism off and the outcome it drives moves -----------------------------

def test_without_annoyance_a_burst_costs_fewer_followers(run):
    with_it = run(*BURST)
    without = run(*BURST, "behaviour.annoyance.gain=0")
    assert total(without, "unfollows") < total(with_it, "unfollows")
    assert with_it.timeseries.mean_annoyance.max() > 0 == without.timeseries.mean_annoyance.max()


def test_a_burst_hurts_more_than_the_same_asks_spread_evenly(run):
    steady = run("strategy=broadcast", *SMALL)  # same posts and asks, no replies either
    burst = run(*BURST)
    assert total(burst, "unfollows") + total(burst, "mutes") > \
        total(steady, "unfollows") + total(steady, "mutes")
    assert burst.outcome.peak_hourly_unfollows.iloc[0] > steady.outcome.peak_hourly_unfollows.iloc[0]


def test_asks_cost_reciprocity_and_replies_restore_it(run):
    asks_free = run(*BURST, "behaviour.reciprocity.ask_cost=0")
    assert asks_free.timeseries.mean_balance.min() > run(*BURST).timeseries.mean_balance.min()
    no_credit = run("strategy=steady", *SMALL, "behaviour.reciprocity.reply_credit=0")
    assert run("strategy=steady", *SMALL).timeseries.mean_balance.iloc[-1] > \
        no_credit.timeseries.mean_balance.iloc[-1]


def test_credit_wins_actions(run):
    sensitive = run("strategy=steady", *SMALL, "behaviour.reciprocity.sensitivity=1",
                    "behaviour.reciprocity.ask_cost=20")
    indifferent = run("strategy=steady", *SMALL, "behaviour.reciprocity.sensitivity=0",
                      "behaviour.reciprocity.ask_cost=20")
    assert total(sensitive, "actions") < total(indifferent, "actions")


def test_a_crowded_feed_means_fewer_impressions(run):
    calm = run("strategy=steady", *SMALL, "audience.attention.other_posts_per_day=1")
    crowded = run("strategy=steady", *SMALL, "audience.attention.other_posts_per_day=30")
    assert total(crowded, "impressions") < 0.7 * total(calm, "impressions")


def test_annoyance_fades_within_days_of_a_burst(run):
    """Annoyance is a reaction to sessions, with a half-life in hours: three days after the
    burst little of it is left."""
    ts = run(*BURST).timeseries
    peak = ts.mean_annoyance.max()
    assert peak > 0
    assert ts.mean_annoyance.idxmax() in range(8 * 24 + 12, 8 * 24 + 24)
    assert ts.mean_annoyance.iloc[-1] < 0.05 * peak


# Growth depends on what the account does (and on fame) -----------------------------------------

def poisson_close(count: int, mean: float) -> bool:
    return abs(count - mean) <= 4 * np.sqrt(mean) + 1


def test_a_silent_ordinary_account_gains_no_followers_and_a_famous_one_does(run):
    ordinary = run("strategy=silent", *SMALL)
    assert total(ordinary, "follows") == 0
    famous = run("strategy=silent", "audience=obama_2011", *SMALL)
    ts = famous.timeseries
    fame = settings("audience=obama_2011").audience.fame_per_day
    assert fame == 0.002
    expected = float((ts.followers - ts.follows).sum()) * fame / 24  # followers each hour
    assert expected > 20
    assert poisson_close(total(famous, "follows"), expected)


GROWTH = ("strategy=steady", *SMALL, "behaviour.growth.conversion=0.05")


def test_no_growth_without_shares_and_replies_where_there_is_no_fame(run):
    closed = run(*GROWTH, "behaviour.growth.share_reach=0", "behaviour.growth.reply_reach=0")
    assert total(closed, "shares") > 0 and total(closed, "replies_given") > 0
    assert total(closed, "follows") == 0


def test_shares_bring_newcomers(run):
    r = run(*GROWTH, "behaviour.growth.share_reach=200", "behaviour.growth.reply_reach=0")
    expected = total(r, "shares") * 200 * 0.05
    assert expected > 20 and poisson_close(total(r, "follows"), expected)


def test_the_accounts_replies_bring_newcomers(run):
    """Directed engagement is seen by the replier's own followers."""
    r = run(*GROWTH, "behaviour.growth.share_reach=0", "behaviour.growth.reply_reach=200")
    expected = total(r, "replies_given") * 200 * 0.05
    assert expected > 20 and poisson_close(total(r, "follows"), expected)


def test_silence_still_loses_a_few_to_baseline_churn():
    r = simulate(settings("strategy=silent", "audience.size=1500", "days=12",
                          "behaviour.leaving.churn=0.01"))
    assert total(r, "impressions") == total(r, "follows") == 0
    assert total(r, "unfollows") + total(r, "mutes") > 0


def test_inactive_followers_never_leave():
    r = simulate(settings("strategy=burst", "strategy.burst_day=2", "audience.size=400",
                          "days=4", "audience.inactive_share=1.0"))
    assert total(r, "impressions") == total(r, "unfollows") == total(r, "mutes") == 0


def _newcomer_leave_rate(*extra):
    r = simulate(settings("strategy=steady", "audience.size=1500", "days=20",
                          "audience.fame_per_day=0.02",
                          "behaviour.leaving.churn=0.02", *extra))
    ties = r.model.ties()
    new = ties[ties.active & (ties.since >= 0)]
    end = np.where(new.left.notna(), new.left, 20 * 24)
    return new.left.notna().sum() / ((end - new.since).sum() / 24)


def test_new_ties_are_fragile():
    """Newcomers leave faster because their tie is young, not only for lack of credit."""
    assert _newcomer_leave_rate() > 1.5 * _newcomer_leave_rate("behaviour.leaving.youth_extra=0")


def test_a_leaver_is_not_stepped_again_nor_answered():
    r = simulate(settings("strategy=steady", "audience.size=800", "days=6",
                          "behaviour.leaving.churn=0.2", "strategy.reply_share=1"))
    m = r.model
    assert len(m.departed) == total(r, "unfollows") > 10
    assert not any(getattr(f, "gone", False) for f in m.active)
    assert not any(getattr(f, "gone", False) for f in m.agents_by_type[Follower])
    assert total(r, "replies_given") <= total(r, "comments")


def test_muted_followers_see_nothing():
    cfg = settings("strategy=steady", "audience.size=300", "days=3", "budget.posts_per_day=10",
                   "behaviour.growth.share_reach=0", "behaviour.growth.reply_reach=0")
    model = AudienceModel(cfg, make_strategy(cfg))
    for f in model.active:
        f.muted = 1
    model.run_model()
    ts = timeseries(model)
    assert ts.posts.sum() > 0 and ts.impressions.sum() == 0


# Muting: where the platform has it ------------------------------------------------------------

MANY_LEAVE = ("strategy=obama_2011", "audience.size=600", "days=8", "behaviour.leaving.churn=0.3")


@pytest.mark.parametrize("share", [None, 0.3])
def test_without_mute_on_the_platform_no_follower_mutes(share):
    """strategy=obama_2011 runs on Twitter in 2011 (platform=twitter_2011), which had no mute:
    whatever share of leavers would mute where they can."""
    extra = () if share is None else (f"platform.mute_share={share}",)
    r = simulate(settings(*MANY_LEAVE, *extra))
    assert r.model.cfg.platform.name == "twitter_2011" and not r.model.cfg.platform.mute
    assert r.model.rules.mute_share == 0
    assert total(r, "unfollows") > 30 and total(r, "mutes") == 0


def test_with_mute_on_the_platform_some_leavers_mute():
    r = simulate(settings(*MANY_LEAVE, "platform=default"))
    assert r.model.rules.mute_share == 0.3
    mutes, unfollows = total(r, "mutes"), total(r, "unfollows")
    assert mutes > 10 and 0.15 < mutes / (mutes + unfollows) < 0.45


# Reciprocity: the account follows back and stops following back, on both engines -------------

ENGINES = ["agents", "vector"]


def followers_of(model) -> list:
    """Every follower who still follows, as the account sees them when it replies."""
    if model.engine == "agents":
        return list(model.agents_by_type.get(Follower, ()))
    from sim.model.array_engine import GONE, FollowerRef  # noqa: PLC0415 - numba loads late

    return [FollowerRef(model, i) for i in range(model.n) if not model.flags[i] & GONE]


def mutual_count(model) -> int:
    return sum(1 for f in followers_of(model) if f.mutual)


def quiet(engine: str, *extra: str):
    """A model where nobody leaves or joins unless the account changes a tie."""
    cfg = settings("strategy=silent", f"engine={engine}", "audience.size=300", "days=2",
                   "behaviour.leaving.churn=0", "behaviour.leaving.flooding=0", *extra)
    return cfg


@pytest.mark.parametrize("engine", ENGINES)
def test_answering_a_reply_can_follow_the_replier_back(engine):
    cfg = quiet(engine)
    model = build(cfg, make_strategy(cfg))
    assert model.engine == engine
    everyone = followers_of(model)
    one_way = [f for f in everyone if not f.mutual][:5]
    mutual = next(f for f in everyone if f.mutual)
    waiting = [one_way[0], mutual, *one_way[1:]]
    before = mutual_count(model)
    balances = [f.balance for f in waiting]
    model.account.waiting.extend((0, f) for f in waiting)
    assert model.account.reply(6, follow_backs=2) == 6
    assert [bool(f.mutual) for f in waiting] == [True, True, True, False, False, False]
    assert mutual_count(model) == before + 2
    assert all(f.acknowledged for f in waiting)
    assert [f.balance for f in waiting] == pytest.approx(
        [b + model.rules.reply_credit for b in balances], rel=1e-6)


class FollowsBack(Strategy):
    """A post every daytime hour; answers every reply and follows back everyone it answers."""

    follow_back = True

    def plan(self, view: AccountView) -> Plan:
        n = view.comments_waiting
        return Plan(value_posts=1 if 8 <= view.hour_of_day < 22 else 0, replies=n,
                    follow_backs=n if self.follow_back else 0)


class AnswersOnly(FollowsBack):
    follow_back = False


@pytest.mark.parametrize("engine", ENGINES)
def test_a_strategy_that_follows_back_makes_answered_followers_mutual(engine):
    def answered(cls):
        cfg = quiet(engine, "days=3", "behaviour.engagement.comment=0.3")
        strategy = cls(posts_per_day=14, asks=0, reply_share=1, reply_capacity=10_000)
        model = simulate(cfg, strategy=strategy).model
        assert model.engine == engine
        return [bool(f.mutual) for f in followers_of(model) if f.acknowledged]

    followed_back, only_answered = answered(FollowsBack), answered(AnswersOnly)
    assert len(followed_back) > 20 and all(followed_back)
    assert len(only_answered) > 20 and not all(only_answered)


class DropsFollowBacks(Strategy):
    """Stops following back ``k`` followers in the first hour, and nobody after."""

    k = 10

    def plan(self, view: AccountView) -> Plan:
        return Plan(unfollow_backs=self.k if view.hour == 0 else 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_strategy_can_stop_following_back(engine):
    cfg = quiet(engine)
    model = build(cfg, DropsFollowBacks(posts_per_day=0, asks=0, reply_share=0,
                                        reply_capacity=0))
    assert model.engine == engine
    before = [bool(f.mutual) for f in followers_of(model)]
    assert sum(before) > 30
    model.step()
    after = [bool(f.mutual) for f in followers_of(model)]
    assert len(after) == len(before) and sum(after) == sum(before) - DropsFollowBacks.k
    assert all(b for a, b in zip(after, before) if a)  # no one-way tie became mutual
    dropped = [i for i, (a, b) in enumerate(zip(after, before)) if b and not a]
    first = [i for i, b in enumerate(before) if b][:DropsFollowBacks.k]
    assert dropped != first  # chosen at random, not the first in line
    model.step()
    assert [bool(f.mutual) for f in followers_of(model)] == after


class DropsAllFollowBacks(DropsFollowBacks):
    k = 10_000


@pytest.mark.parametrize("engine", ENGINES)
def test_stopping_following_back_more_than_are_followed_back_leaves_none(engine):
    cfg = quiet(engine)
    model = build(cfg, DropsAllFollowBacks(posts_per_day=0, asks=0, reply_share=0,
                                           reply_capacity=0))
    assert mutual_count(model) > 30
    model.step()
    assert mutual_count(model) == 0
    assert len(followers_of(model)) == 300


# Strategies written by users -----------------------------------------------------------------

class EveningAsker(Strategy):
    """Adaptive: asks only in the evening and only while it still has followers."""

    def plan(self, view: AccountView) -> Plan:
        self.seen_followers = view.followers
        return Plan(value_posts=1 if view.hour_of_day == 9 else 0,
                    asks=1 if view.hour_of_day == 19 and view.followers > 0 else 0,
                    replies=view.comments_waiting)


def test_a_strategy_written_in_python_runs_and_sees_what_an_account_sees():
    s = EveningAsker(posts_per_day=1, asks=0, reply_share=1, reply_capacity=10)
    r = simulate(settings("audience.size=300", "days=3"), strategy=s)
    assert total(r, "asks") == 3 and total(r, "posts") == 6
    assert s.seen_followers == r.timeseries.followers.iloc[-2]


class Broken(Strategy):
    def plan(self, view):
        return Plan(value_posts=-1)


class BrokenFollowBacks(Strategy):
    def plan(self, view):
        return Plan(unfollow_backs=2.5)


def test_a_malformed_plan_is_a_clear_error():
    with pytest.raises(StrategyError, match="Broken planned value_posts=-1"):
        simulate(settings("audience.size=50", "days=1"),
                 strategy=Broken(posts_per_day=0, asks=0, reply_share=0, reply_capacity=0))
    with pytest.raises(StrategyError, match="BrokenFollowBacks planned unfollow_backs=2.5"):
        simulate(settings("audience.size=50", "days=1"),
                 strategy=BrokenFollowBacks(posts_per_day=0, asks=0, reply_share=0,
                                            reply_capacity=0))


def test_fickle_followers_leave_more_and_spread_makes_unfollowing_rarer_among_people():
    """P2 with P11a: fickleness (mean 1) sorts who unfollows; with spread, the most fickle
    fifth leave far more often than the least fickle fifth. Without it everyone is alike."""
    r = simulate(settings("strategy=broadcast", "audience.size=4000", "days=30",
                          "behaviour.leaving.churn=0.02", "engine=vector"))
    ties = r.model.ties()
    ties = ties[ties.active & (ties.since < 0)]
    assert ties.fickleness.mean() == pytest.approx(1.0, rel=0.3)
    fifth = pd.qcut(ties.fickleness, 5, labels=False)
    left = ties.left.notna().groupby(fifth).mean()
    assert left.iloc[-1] > 5 * left.iloc[0]
    flat = simulate(settings("strategy=broadcast", "audience.size=4000", "days=30",
                             "behaviour.leaving.churn=0.02", "engine=vector",
                             "audience.fickleness_spread=0"))
    assert np.allclose(flat.model.ties().fickleness, 1.0, rtol=1e-3)
