"""The seed case: what the model predicts for the day of the burst and the days after.

Runs ``audience=obama_2011 strategy=obama_2011 days=11`` (a week of one post a day, the day
with 101 asks in six hours, three days after) on several seeds and prints, per day, the net
and gross change in followers as a share of the followers at the start of that day (mean and
range over seeds). docs/ODD.md section 10 quotes it. These are predictions: no parameter was
tuned to any reported outcome of that day.

    python docs/seed_case.py --seeds 3 [extra settings, e.g. behaviour.annoyance.convexity=1]
"""

from __future__ import annotations

import argparse

import pandas as pd

from sim.config import settings
from sim.run import simulate


def daily(ts: pd.DataFrame, start: int) -> pd.DataFrame:
    d = ts.groupby("day").agg(followers=("followers", "last"), follows=("follows", "sum"),
                              unfollows=("unfollows", "sum"), mutes=("mutes", "sum"),
                              asks=("asks", "sum"), actions=("actions", "sum"))
    before = d.followers.shift(1).fillna(start)
    return pd.DataFrame({
        "asks": d.asks, "net %": 100 * (d.followers - before) / before,
        "unfollows %": 100 * d.unfollows / before, "mutes %": 100 * d.mutes / before,
        "follows %": 100 * d.follows / before, "actions": d.actions})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("overrides", nargs="*", help="extra settings, as on the command line")
    args = p.parse_args()
    days = []
    for seed in range(args.seeds):
        cfg = settings("audience=obama_2011", "strategy=obama_2011", "days=11", f"seed={seed}",
                       *args.overrides)
        r = simulate(cfg)
        days.append(daily(r.timeseries, int(r.outcome.followers_start.iloc[0])))
    table = pd.concat(days).groupby(level=0).agg(["mean", "min", "max"]).round(2)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.loc[5:].to_string())


if __name__ == "__main__":
    main()
