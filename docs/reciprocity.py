"""What reciprocity does in the model: answers, their worth, and an account that stops answering.

Three measurements, each paired by seed (the arms of one seed share their audience), as the
mean over seeds with a 95 % interval (t distribution). docs/ODD.md section 10.3 quotes them.

1. The ``reciprocity`` experiment's grid (``experiments/reciprocity.yaml``): a steady account
   answering none, half or all of the people who reply, with an answer worth 1, 5 or 20 in
   the follower's balance: net change in % of the audience.
2. ``steady`` against ``broadcast`` (the same posts and asks; broadcast answers nobody, P5,
   P15): differences in net change, new follows and unfollows.
3. An account that answers everyone for a month and then stops (``Lapses``), against one that
   keeps answering, over 60 days; and one that also stops following back everyone it
   followed back. What losing reciprocity costs: of the followers it had on day 30, the
   share who unfollow by day 60 (newcomers after day 30 left out, since an account that
   stops answering also wins fewer), lapsing arm minus the arm that keeps on; and the net
   change over the 60 days.

    python docs/reciprocity.py --seeds 5 --size 30000 --out docs/results/reciprocity_model2.csv
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from scipy import stats

from sim import Plan
from sim.config.compose import settings
from sim.experiment.run import simulate
from sim.io.files import write_csv
from sim.model.strategies import Steady


class Lapses(Steady):
    """Steady for ``stop_day`` days, answering as steady does; then it answers nobody, and
    with ``unfollow_back`` it also stops following back every follower it followed back."""

    def __init__(self, *, stop_day: int, unfollow_back: bool = False, **budget) -> None:
        super().__init__(**budget)
        self.stop_hour, self.unfollow_back = stop_day * 24, unfollow_back

    def plan(self, view):
        plan = super().plan(view)
        if view.hour < self.stop_hour:
            return plan
        drop = view.followers if self.unfollow_back and view.hour == self.stop_hour else 0
        return Plan(plan.value_posts, plan.asks, 0, 0, drop)


def interval(values) -> str:
    d = np.asarray(values, float)
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0
    return f"{d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]"


def run(seed: int, size: int, *overrides: str, strategy=None):
    cfg = settings(f"seed={seed}", f"audience.size={size}", "engine=vector", *overrides)
    return simulate(cfg, strategy=strategy)


def pct(r, column: str, size: int) -> float:
    return 100.0 * float(r.outcome[column].iloc[0]) / size


def grid(seeds, size: int) -> list[dict]:
    rows = []
    for share in (0, 0.5, 1):
        for credit in (1, 5, 20):
            net = [run(s, size, "strategy=steady", f"strategy.reply_share={share}",
                       f"behaviour.reciprocity.reply_credit={credit}").outcome.net_change_pct
                   .iloc[0] for s in seeds]
            rows.append({"part": "1 reciprocity grid",
                         "case": f"reply_share {share}, reply_credit {credit}",
                         "measure": "net change, %", "value": interval(net)})
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def steady_against_broadcast(seeds, size: int) -> list[dict]:
    diffs: dict[str, list[float]] = {"net change, % points": [], "new follows, % of audience": [],
                                     "unfollows, % of audience": []}
    for s in seeds:
        a, b = run(s, size, "strategy=steady"), run(s, size, "strategy=broadcast")
        diffs["net change, % points"].append(a.outcome.net_change_pct.iloc[0]
                                              - b.outcome.net_change_pct.iloc[0])
        diffs["new follows, % of audience"].append(pct(a, "follows", size)
                                                   - pct(b, "follows", size))
        diffs["unfollows, % of audience"].append(pct(a, "unfollows", size)
                                                 - pct(b, "unfollows", size))
    return [{"part": "2 steady - broadcast", "case": "defaults, 30 days", "measure": k,
             "value": interval(v)} for k, v in diffs.items()]


def lapses(seeds, size: int, days: int = 60, stop_day: int = 30) -> list[dict]:
    """Lapsing arms minus the arm that keeps answering: the day-30 followers lost by day 60,
    and the net change over the run, both in %."""
    base = ("strategy=steady", "strategy.reply_share=1", f"days={days}")
    stop = stop_day * 24

    def lost_after_lapse(r) -> float:
        ties = r.model.ties()
        there = ties[(ties.since < stop) & ~(ties.left < stop)]  # following at the lapse
        return 100.0 * float((there.left >= stop).sum()) / len(there)

    def measures(r) -> tuple[float, float]:
        return lost_after_lapse(r), float(r.outcome.net_change_pct.iloc[0])

    names = ("stops answering", "stops answering and following back")
    out = {(n, m): [] for n in names for m in (0, 1)}
    for s in seeds:
        cfg = settings(f"seed={s}", f"audience.size={size}", "engine=vector", *base)
        budget = dict(posts_per_day=cfg.strategy.posts_per_day, asks=cfg.strategy.asks,
                      reply_share=1.0, reply_capacity=cfg.strategy.reply_capacity)
        keeps = measures(run(s, size, *base))
        for name, drop in zip(names, (False, True)):
            lapsed = measures(run(s, size, *base, strategy=Lapses(
                stop_day=stop_day, unfollow_back=drop, **budget)))
            for m in (0, 1):
                out[name, m].append(lapsed[m] - keeps[m])
    what = (f"day-{stop_day} followers gone by day {days}, % points",
            f"net change over {days} days, % points")
    return [{"part": "3 lapses - keeps answering", "case": name, "measure": what[m],
             "value": interval(v)} for (name, m), v in out.items()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--size", type=int, default=30000)
    p.add_argument("--out", default=None, help="also write the table as CSV to this file")
    args = p.parse_args()
    seeds = range(args.seeds)
    table = pd.DataFrame([*grid(seeds, args.size), *steady_against_broadcast(seeds, args.size),
                          *lapses(seeds, args.size)])
    print(f"{args.size:,} followers, array engine, seeds 0-{args.seeds - 1}; "
          "mean [95 % interval]\n")
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False))
    if args.out:
        write_csv(table, args.out)


if __name__ == "__main__":
    main()
