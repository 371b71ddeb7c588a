"""The calibration patterns P1-P10 (../shared/evidence/patterns.md), measured on the model.

Each function runs the model with default parameters in the scenario the pattern describes
and returns the statistic the pattern names. The test suite checks them on small audiences;
``python -m sim.patterns`` prints the full table quoted in docs/ODD.md::

    python -m sim.patterns --size 5000 --seeds 5
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config.compose import settings
from sim.experiment.run import Result, simulate
from sim.model.strategies import AccountView, Plan, Strategy
from sim.model.traits import lognormal


@dataclass(frozen=True)
class Target:
    pattern: str
    statistic: str
    low: float
    high: float


TARGETS = {
    "P1": Target("P1", "net growth per day, % (broadcast, one post a day)", 0.1, 0.3),
    "P2": Target("P2", "share of active users who unfollow someone within 51 days", 0.33, 0.53),
    "P3": Target("P3", "unfollow rate of one-way ties / reciprocal ties (churn raised)", 1.8, 3.5),
    "P4": Target("P4", "daily unfollow rate, ties < 30 days old / older (churn raised)", 1.0, np.inf),
    "P5": Target("P5", "answered one-way ties lost, replies worthless / worth credit", 1.0, np.inf),
    "P6a": Target("P6", "likes per post at 2 posts a day / at 1", 0.45, 0.70),
    "P6b": Target("P6", "replies per post at 2 posts a day / at 1", 0.65, 0.90),
    "P7": Target("P7", "share of unfollows caused by flooding (same account as P2)", 0.39, 0.52),
    "P8": Target("P8", "half-life of a post's impressions, minutes", 60, 110),
    "P9": Target("P9", "impressions per post, following 300 accounts / following 75", 0.0, 0.8),
    "P10": Target("P10", "share of follow-back ties at the end", 0.17, 0.27),
}


def run(*overrides: str) -> Result:
    return simulate(settings("engine=agents", *overrides))  # the checks read each tie


def _runs(seeds, *overrides: str) -> list[Result]:
    return [run(f"seed={s}", *overrides) for s in seeds]


def growth_per_day(size: int, seeds, days: int = 30) -> float:
    """P1: mean net growth per day, in % of the audience, at one post a day and no replies."""
    rs = _runs(seeds, "strategy=broadcast", "budget.asks=0", f"audience.size={size}",
               f"days={days}")
    return float(np.mean([r.outcome.net_change_pct.iloc[0] / days for r in rs]))


def ordinary_account(size: int, seeds, *extra: str, days: int = 51) -> dict[str, float]:
    """P2, P3, P4, P7 and P10 on ties to an ordinary account: one that posts at the feed's
    usual rate and never asks, watched for 51 days as in Kwak et al.

    P2: the chance that an active user unfollows at least one of the accounts they follow.
    The model follows one tie per user; the user's other ties are taken to be like this one,
    so the chance is 1 - (1 - p)^F with p the tie's break chance over the period and F the
    number of accounts followed, drawn from the audience's distribution.
    P3: break rate of one-way ties over reciprocal ones. P4: daily unfollow rate of ties
    younger than 30 days over older ones. P7: the share of unfollows that the hazard
    attributes to flooding. P10: the share of follow-back ties at the end.
    """
    cfg = settings("engine=agents", f"audience.size={size}", *extra)
    a = cfg.audience.attention
    rs = _runs(seeds, "strategy=broadcast", "budget.asks=0", f"audience.size={size}",
               f"days={days}", f"budget.posts_per_day={a.other_posts_per_day}", *extra)
    ties = [r.model.ties() for r in rs]
    initial = [t[(t.since < 0) & t.active] for t in ties]
    p = np.mean([t.left.notna().mean() for t in initial])
    followees = np.maximum(lognormal(np.random.default_rng(0), a.followees, a.followees_spread,
                                     100_000), 1)
    def break_rate(kind: int) -> float:
        """-ln(share of ties kept): a rate, so that a high churn does not saturate it."""
        ties = pd.concat([t[t.mutual == kind] for t in initial])
        return -np.log1p(-ties.left.notna().mean()) if len(ties) else np.nan
    one_way, mutual = break_rate(0), break_rate(1)
    young_old = np.array([_young_and_old_rates(t, days) for t in ties]).sum(axis=0)
    unfollows = sum(int(r.outcome.unfollows.iloc[0]) for r in rs)
    flooding = sum(r.outcome.flooding_share.iloc[0] * r.outcome.unfollows.iloc[0] for r in rs)
    return {"P2": float(np.mean(1.0 - (1.0 - p) ** followees)),
            "P3": one_way / mutual if mutual else np.inf,
            "P4": (young_old[0] / young_old[1]) / max(young_old[2] / young_old[3], 1e-12),
            "P7": float(flooding / max(unfollows, 1)),
            "P10": float(np.mean([t[t.left.isna()].mutual.mean() for t in ties]))}


def _young_and_old_rates(ties: pd.DataFrame, days: int) -> tuple[float, float, float, float]:
    """(unfollows, tie-days) of active ties while younger than 30 days, and while older."""
    ties = ties[ties.active]
    end = np.where(ties.left.notna(), ties.left, days * 24).astype(float)
    since = ties.since.to_numpy(float)
    turn = since + 30 * 24  # the hour the tie turns 30 days old
    young_days = np.clip(np.minimum(end, turn) - np.maximum(since, 0), 0, None).sum() / 24
    old_days = np.clip(end - np.maximum(turn, 0), 0, None).sum() / 24
    left = ties.left.notna().to_numpy()
    left_young = int((left & (end < turn)).sum())
    return left_young, young_days, int(left.sum()) - left_young, old_days


# Few followers reply to the account, and fewer of those leave: to see acknowledgement at
# work on thousands of followers, more of them reply (10x), all are answered, churn is raised.
P5_SETTINGS = ("behaviour.leaving.churn=0.02", "behaviour.engagement.comment=0.2",
               "strategy.reply_share=1", "strategy.reply_capacity=1000")


def acknowledgement_effect(size: int, seeds, *extra: str, days: int = 30) -> float:
    """P5: among one-way followers whom a steady account answered, the share who left when
    replies count for nothing (reply credit 0), over the share who left when they count.
    The two runs share their seeds, so they differ only where acknowledgement acts.
    Above 1: acknowledgement protects a tie, even a one-way one."""
    def answered_leave_share(*more: str) -> float:
        left = answered = 0
        for r in _runs(seeds, "strategy=steady", f"audience.size={size}", f"days={days}",
                       *extra, *more):
            ties = r.model.ties()
            got_replies = ties[(ties.mutual == 0) & (ties.acknowledged > 0)]
            left += int(got_replies.left.notna().sum())
            answered += len(got_replies)
        return left / max(answered, 1)
    without, with_credit = answered_leave_share("behaviour.reciprocity.reply_credit=0"), \
        answered_leave_share()
    return without / with_credit if with_credit else np.nan


def diminishing_returns(size: int, seeds, days: int = 20) -> dict[str, float]:
    """P6: likes and replies per post at two posts a day, relative to one post a day."""
    per_post = {}
    for rate in (1, 2):
        rs = _runs(seeds, "strategy=broadcast", "budget.asks=0", f"budget.posts_per_day={rate}",
                   f"audience.size={size}", f"days={days}")
        posts = sum(int(r.outcome.posts.iloc[0]) for r in rs)
        per_post[rate] = (sum(int(r.timeseries.likes.sum()) for r in rs) / posts,
                          sum(int(r.timeseries.comments.sum()) for r in rs) / posts)
    return {"P6a": per_post[2][0] / per_post[1][0], "P6b": per_post[2][1] / per_post[1][1]}


class OnePost(Strategy):
    """One value post at a given hour, then silence: to watch a post's exposure decay."""

    def __init__(self, at: int) -> None:
        super().__init__(posts_per_day=0, asks=0, reply_share=0, reply_capacity=0)
        self.at = at

    def plan(self, view: AccountView) -> Plan:
        return Plan(value_posts=1 if view.hour == self.at else 0)


def impressions_half_life(size: int, seeds, hours_of_day=range(0, 24, 3)) -> tuple[float, float]:
    """P8: minutes until a post has half its impressions; share of its replies in hour one.

    One post at each of several hours of the day (averaged: posts go out around the clock),
    impressions counted per hour after posting; the half-way time is interpolated on the
    cumulative curve, taking impressions as spread evenly within each hour.
    """
    curves = []
    for s in seeds:
        for h in hours_of_day:
            cfg = settings("engine=agents", f"seed={s}", f"audience.size={size}", "days=3",
                           "strategy=silent")
            r = simulate(cfg, OnePost(24 + h))
            curves.append(r.timeseries[["impressions", "comments"]].to_numpy()[24 + h: 24 + h + 24])
    total = np.sum(curves, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(total[:, 0])]) / total[:, 0].sum()
    half_hours = float(np.interp(0.5, cum, np.arange(len(cum))))
    first_hour_replies = total[0, 1] / max(total[:, 1].sum(), 1)
    return half_hours * 60.0, float(first_hour_replies)


def attention_gradient(size: int, seeds, days: int = 10) -> float:
    """P9: impressions per post and follower when followers follow four times as many
    accounts (median 300 instead of 75), everything else equal: below 1, attention is
    limited and a crowded feed hides the account's posts."""
    def impressions_per_post(followees: int) -> float:
        rs = _runs(seeds, "strategy=broadcast", "budget.asks=0", f"audience.size={size}",
                   f"days={days}", f"audience.attention.followees={followees}")
        return sum(int(r.timeseries.impressions.sum()) for r in rs) / \
            sum(int(r.outcome.posts.iloc[0]) for r in rs)
    return impressions_per_post(300) / impressions_per_post(75)


def table(size: int, seeds) -> pd.DataFrame:
    values = {"P1": growth_per_day(size, seeds)} | ordinary_account(size, seeds)
    # Ratios between kinds of ties need more broken ties than the default churn gives on a few
    # thousand followers (5 of 1,800 reciprocal ties break in 51 days); they are properties of
    # the hazard's structure, so they are measured with a raised churn (16x), all else at
    # defaults.
    raised = "behaviour.leaving.churn=0.003"
    ratios = ordinary_account(size, seeds, raised)
    values["P3"], values["P4"] = ratios["P3"], ratios["P4"]
    values["P5"] = acknowledgement_effect(size, seeds, *P5_SETTINGS)
    values |= diminishing_returns(size, seeds)
    values["P8"], _ = impressions_half_life(size, seeds)
    values["P9"] = attention_gradient(size, seeds)
    rows = []
    for key, t in TARGETS.items():
        v = values[key]
        rows.append({"pattern": t.pattern, "statistic": t.statistic, "target_low": t.low,
                     "target_high": t.high, "model": round(float(v), 4),
                     "within": bool(t.low <= v <= t.high)})
    return pd.DataFrame(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=5000, help="followers per run")
    p.add_argument("--seeds", type=int, default=5, help="seeds per scenario")
    args = p.parse_args()
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(table(args.size, list(range(args.seeds))).to_string(index=False))


if __name__ == "__main__":
    main()
