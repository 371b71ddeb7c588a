"""The model as a whole: each mechanism is wired in (switching it off changes what happens),
strategies spend what they say, newcomers arrive, and the same seed gives the same tables."""

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


def test_no_growth_without_discovery_and_shares(run):
    closed = run("strategy=steady", *SMALL, "behaviour.growth.discovery_per_day=0",
                 "behaviour.growth.share_reach=0")
    assert total(closed, "follows") == 0
    shares_only = run("strategy=steady", *SMALL, "behaviour.growth.discovery_per_day=0",
                      "behaviour.growth.share_reach=200", "behaviour.growth.conversion=0.05")
    assert total(shares_only, "shares") > 0 and total(shares_only, "follows") > 0


def test_silence_still_loses_a_few_to_baseline_churn():
    r = simulate(settings("strategy=silent", "audience.size=3000", "days=20",
                          "behaviour.leaving.churn=0.01", "behaviour.growth.discovery_per_day=0"))
    assert total(r, "unfollows") + total(r, "mutes") > 0


def test_inactive_followers_never_leave():
    r = simulate(settings("strategy=burst", "strategy.burst_day=2", "audience.size=400",
                          "days=4", "audience.inactive_share=1.0",
                          "behaviour.growth.discovery_per_day=0"))
    assert total(r, "impressions") == total(r, "unfollows") == total(r, "mutes") == 0


def _newcomer_leave_rate(*extra):
    r = simulate(settings("strategy=steady", "audience.size=1500", "days=20",
                          "behaviour.growth.discovery_per_day=0.02",
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
                   "behaviour.growth.share_reach=0", "behaviour.growth.discovery_per_day=0")
    model = AudienceModel(cfg, make_strategy(cfg))
    for f in model.active:
        f.muted = 1
    model.run_model()
    ts = timeseries(model)
    assert ts.posts.sum() > 0 and ts.impressions.sum() == 0


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


def test_a_malformed_plan_is_a_clear_error():
    with pytest.raises(StrategyError, match="Broken planned value_posts=-1"):
        simulate(settings("audience.size=50", "days=1"),
                 strategy=Broken(posts_per_day=0, asks=0, reply_share=0, reply_capacity=0))
