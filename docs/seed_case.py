"""The seed case: what the model predicts for the day of the burst and the days after.

Runs ``audience=obama_2011 strategy=obama_2011`` (9.4 million followers on the array engine;
a week of one post a day, the day with 101 asks in six hours, three days after) on several
seeds and prints, per day, the net and gross change in followers as a share of the followers
at the start of that day (mean and range over seeds): the runs' ``daily.csv``. docs/ODD.md
section 10 quotes it. These are predictions: no parameter was tuned to any reported outcome of
that day.

    python docs/seed_case.py --seeds 3 [extra settings, e.g. behaviour.annoyance.convexity=1]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from sim.config.compose import settings
from sim.experiment.run import simulate
from sim.io.tables import daily

COLUMNS = {"asks": "asks", "net_change_pct": "net %", "unfollows_pct": "unfollows %",
           "mutes_pct": "mutes %", "follows_pct": "follows %", "actions": "actions"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("overrides", nargs="*", help="extra settings, as on the command line")
    args = p.parse_args()
    days = []
    for seed in range(args.seeds):
        cfg = settings("audience=obama_2011", "strategy=obama_2011", f"seed={seed}",
                       *args.overrides)
        start = time.perf_counter()
        r = simulate(cfg)
        print(f"seed {seed}: {cfg.audience.size:,} followers, {cfg.days} days, engine "
              f"{r.model.engine}, {time.perf_counter() - start:.0f} s", flush=True)
        table = daily(r.timeseries, r.model.followers_start).set_index("day")
        days.append(table[list(COLUMNS)].rename(columns=COLUMNS))
    table = pd.concat(days).groupby(level=0).agg(["mean", "min", "max"]).round(2)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.loc[5:].to_string())


if __name__ == "__main__":
    main()
