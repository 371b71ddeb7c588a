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

from sim.config import settings
from sim.run import Result, simulate
from sim.strategies import AccountView, Plan, Strategy


@dataclass(frozen=True)
class Target:
    pattern: str
    statistic: str
    low: float
    high: float


TARGETS = {
    "P1": Target("P1", "net growth per day, % (broadcast, one post a day)", 0.1, 0.3),
    "P2": Target("P2", "share of active users who unfollow someone within 51 days", 0.33, 0.53),
    "P3": Target("P3", "unfollow rate of one-way ties / reciprocal ties", 1.8, 3.5),
    "P4": Target("P4", "daily unfollow rate of ties < 30 days old / older ties", 1.0, np.inf),
    "P5": Target("P5", "unfollow rate of one-way ties never answered / answered", 1.0, np.inf),
    "P6a": Target("P6", "likes per post at 2 posts a day / at 1", 0.45, 0.70),
    "P6b": Target("P6", "replies per post at 2 posts a day / at 1", 0.65, 0.90),
    "P7": Target("P7", "share of unfollows caused by flooding (burst, default budget)", 0.39, 0.52),
    "P8": Target("P8", "half-life of a post's impressions, minutes", 60, 110),
    "P9": Target("P9", "chance to see a post, top / bottom quartile of accounts followed", 0.0, 0.8),
    "P10": Target("P10", "share of follow-back ties at the end", 0.17, 0.27),
}


def run(*overrides: str) -> Result:
    return simulate(settings(*overrides))


def _runs(seeds, *overrides: str) -> list[Result]:
    return [run(f"seed={s}", *overrides) for s in seeds]


def growth_per_day(size: int, seeds, days: int = 30) -> float:
    """P1: mean net growth per day, in % of the audience, at one post a day and no replies."""
    rs = _runs(seeds, "strategy=broadcast", "budget.asks=0", f"audience.size={size}",
               f"days={days}")
    return float(np.mean([r.outcome.net_change_pct.iloc[0] / days for r in rs]))


def _initial_ties(r: Result) -> pd.DataFrame:
    ties = r.model.ties()
    return ties[(ties.since < 0) & ties.active]


def unfollow_anyone_share(size: int, seeds, days: int = 51) -> float:
    """P2: chance that an active user unfollows at least one of the accounts they follow.

    The model follows one tie per user; a user's other ties are taken to be like a tie to an
    ordinary account (posting at the feed's usual rate, no asks), so the chance is
    1 - (1 - p)^F with p the tie's break chance over the period and F the accounts followed.
    """
    cfg = settings("strategy=broadcast", "budget.asks=0", f"audience.size={size}")
    a = cfg.audience.attention
    rs = _runs(seeds, "strategy=broadcast", "budget.asks=0", f"audience.size={size}",
               f"days={days}", f"budget.posts_per_day={a.other_posts_per_day}")
    p = np.mean([_initial_ties(r).left.notna().mean() for r in rs])
    rng = np.random.default_rng(0)
    followees = np.maximum(a.followees * np.exp(a.followees_spread * rng.standard_normal(100_000)), 1)
    return float(np.mean(1.0 - (1.0 - p) ** followees))


def broken_share(ties: pd.DataFrame) -> float:
    return float(ties.left.notna().mean()) if len(ties) else np.nan


def tie_patterns(size: int, seeds, days: int = 30) -> dict[str, float]:
    """P3, P4, P5, P10 from steady runs (which answer people, so some ties are acknowledged)."""
    rs = _runs(seeds, "strategy=steady", f"audience.size={size}", f"days={days}")
    one_way, mutual, young, old, unanswered, answered, follow_back = [], [], [], [], [], [], []
    for r in rs:
        ties = r.model.ties()
        active = ties[ties.active]
        init = active[active.since < 0]
        one_way.append(broken_share(init[init.mutual == 0]))
        mutual.append(broken_share(init[init.mutual == 1]))
        end = np.where(active.left.notna(), active.left, days * 24)
        age_days = (end - active.since) / 24.0
        exposure_young = np.clip(np.minimum(end, active.since + 30 * 24) - np.maximum(active.since, 0), 0, None)
        exposure_old = np.clip(end - np.maximum(active.since + 30 * 24, 0), 0, None)
        left_young = (active.left.notna() & (age_days < 30)).sum()
        left_old = (active.left.notna() & (age_days >= 30)).sum()
        young.append(left_young / max(exposure_young.sum() / 24.0, 1e-9))
        old.append(left_old / max(exposure_old.sum() / 24.0, 1e-9))
        ow = init[init.mutual == 0]
        unanswered.append(broken_share(ow[ow.acknowledged == 0]))
        answered.append(broken_share(ow[ow.acknowledged > 0]))
        remaining = ties[ties.left.isna()]
        follow_back.append(float(remaining.mutual.mean()))
    return {"P3": np.mean(one_way) / np.mean(mutual), "P4": np.mean(young) / np.mean(old),
            "P5": np.nanmean(unanswered) / max(np.nanmean(answered), 1e-12),
            "P10": float(np.mean(follow_back))}


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


def flooding_share(size: int, seeds) -> float:
    """P7: share of the burst run's unfollows that the hazard attributes to flooding."""
    rs = _runs(seeds, "strategy=burst", f"audience.size={size}")
    unfollows = sum(int(r.outcome.unfollows.iloc[0]) for r in rs)
    flooding = sum(r.outcome.flooding_share.iloc[0] * r.outcome.unfollows.iloc[0] for r in rs)
    return float(flooding / max(unfollows, 1))


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
            cfg = settings(f"seed={s}", f"audience.size={size}", "days=3", "strategy=silent")
            r = simulate(cfg, OnePost(24 + h))
            curves.append(r.timeseries[["impressions", "comments"]].to_numpy()[24 + h: 24 + h + 24])
    total = np.sum(curves, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(total[:, 0])]) / total[:, 0].sum()
    half_hours = float(np.interp(0.5, cum, np.arange(len(cum))))
    first_hour_replies = total[0, 1] / max(total[:, 1].sum(), 1)
    return half_hours * 60.0, float(first_hour_replies)


def attention_gradient(size: int, seeds) -> float:
    """P9: chance to see a post, followers in the top quartile of crowding / bottom quartile."""
    from sim.audience import draw_traits
    from sim.follower import Rules

    cfg = settings(f"audience.size={size}")
    rules = Rules.from_config(cfg.behaviour)
    traits = draw_traits(cfg.audience, rules, np.random.default_rng(seeds[0]), size, 1.0)
    readable = np.minimum(traits["reads"] / traits["crowd"], 1.0)
    q1, q3 = np.quantile(traits["crowd"], [0.25, 0.75])
    return float(readable[traits["crowd"] >= q3].mean() / readable[traits["crowd"] <= q1].mean())


def table(size: int, seeds) -> pd.DataFrame:
    values = {"P1": growth_per_day(size, seeds), "P2": unfollow_anyone_share(size, seeds)}
    values |= tie_patterns(size, seeds)
    values |= diminishing_returns(size, seeds)
    values["P7"] = flooding_share(size, seeds)
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
