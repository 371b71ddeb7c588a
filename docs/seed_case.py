"""The seed case: what the model predicts for the day of the burst and the days after.

Runs ``audience=obama_2011 strategy=obama_2011`` (9.4 million followers on the array engine;
Twitter in 2011, without mute; a week of one post a day, the day with 101 asks in six hours,
three days after) on several seeds and prints, per day, the net and gross change in followers
as a share of the followers at the start of that day and the share of the day's unfollows
that flooding caused (the rest: baseline leaving, with debt), as the mean and range over
seeds.

No pattern pins how strongly a deluge of tens of posts in hours annoys
(``behaviour.annoyance.saturation``), so the prediction is given across its stated range
(1, 5 and 30 by default, docs/ODD.md section 8.1): an interval, not a point. docs/ODD.md
section 10 quotes it. These are predictions: no parameter was tuned to any reported outcome
of that day.

    python docs/seed_case.py --seeds 3 [--saturation 1 5 30] [extra settings]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from sim.config.compose import settings
from sim.experiment.run import simulate
from sim.io.tables import daily

COLUMNS = {"asks": "asks", "net_change_pct": "net %", "unfollows_pct": "unfollows %",
           "follows_pct": "follows %", "flooding_share": "flooding share", "actions": "actions"}
SATURATION = (1.0, 5.0, 30.0)  # the stated range of behaviour.annoyance.saturation, and its default


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--saturation", type=float, nargs="+", default=list(SATURATION),
                   help="values of behaviour.annoyance.saturation to run (default: 1 5 30)")
    p.add_argument("overrides", nargs="*", help="extra settings, as on the command line")
    args = p.parse_args()
    for saturation in args.saturation:
        days = []
        for seed in range(args.seeds):
            cfg = settings("audience=obama_2011", "strategy=obama_2011", f"seed={seed}",
                           f"behaviour.annoyance.saturation={saturation}", *args.overrides)
            start = time.perf_counter()
            r = simulate(cfg)
            print(f"saturation {saturation:g}, seed {seed}: {cfg.audience.size:,} followers, "
                  f"{cfg.days} days, engine {r.model.engine}, "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
            table = daily(r.timeseries, r.model.followers_start).set_index("day")
            days.append(table[list(COLUMNS)].rename(columns=COLUMNS))
        table = pd.concat(days).groupby(level=0).agg(["mean", "min", "max"]).round(2)
        print(f"\nbehaviour.annoyance.saturation={saturation:g} (mean, min, max over "
              f"{args.seeds} seeds; day 7 is the burst)")
        with pd.option_context("display.width", 220, "display.max_columns", 30):
            print(table.loc[5:].to_string() + "\n", flush=True)

if __name__ == "__main__":
    main()
