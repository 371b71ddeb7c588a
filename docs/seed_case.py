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

With ``--ensemble NAME`` (a shipped ensemble, e.g. ``default``, or a calibration's folder,
``results/calibration/<time>``) it runs every member of the ensemble instead, each a
parameter set that reproduces the calibration patterns, and reports the burst day and the
three days after it as the median and the 90 % interval across members and seeds.
At the real 9.4 million followers a member takes about half a minute on two cores;
``--size`` scales the audience down (every share is per follower) and ``--members K`` runs
the first K members only::

    python docs/seed_case.py --ensemble default --seeds 1 --size 200000 [--members 20]
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd
from hydra.errors import HydraException

from sim.config.checks import composition_error
from sim.config.compose import settings
from sim.config.ensembles import load
from sim.errors import UserError
from sim.experiment import ensemble
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
    p.add_argument("--ensemble", default=None,
                   help="run every member of this ensemble (default, or a calibration's "
                        "folder) and report median and 90 %% interval; --saturation is then "
                        "left to the members")
    p.add_argument("--members", type=int, default=None, help="the first K members only")
    p.add_argument("--size", type=int, default=None,
                   help="followers at the start (default: the real 9.4 million)")
    p.add_argument("overrides", nargs="*", help="extra settings, as on the command line")
    args = p.parse_args()
    for name in ("seeds", "members", "size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.size is not None:
        args.overrides = [f"audience.size={args.size}", *args.overrides]
    try:
        if args.ensemble is not None:
            across_ensemble(args)
        else:
            across_saturation(args)
    except (UserError, HydraException) as e:  # a bad setting or ensemble: one paragraph
        if isinstance(e, HydraException):
            e = composition_error(e)
        sys.stderr.write(f"seed_case: {' '.join(str(e).split())}\n")
        sys.exit(2)


def across_saturation(args) -> None:
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

def across_ensemble(args) -> None:
    """The burst day and the three days after it, median and 90 % interval across the
    ensemble's members and the seeds."""
    members = load(args.ensemble)
    given = list(args.overrides)
    if not any(o.partition("=")[0].lstrip("+") == "engine" for o in given):
        given.append("engine=vector")  # the array engine at any size: far faster than agents
    pinned = ensemble.given_keys(given) & set(members.keys)
    count = len(members) if args.members is None else min(args.members, len(members))
    days, burst, started = [], None, time.perf_counter()
    for seed in range(args.seeds):
        cfg = settings("audience=obama_2011", "strategy=obama_2011", f"seed={seed}", *given)
        burst = int(cfg.strategy.burst_day)
        table, long = ensemble.run_members(
            cfg, members, pinned, limit=args.members,
            progress=lambda line, seed=seed: print(f"seed {seed}, {line}", flush=True))
        failed = table[table.status != ensemble.FINISHED]
        for row in failed.itertuples():
            print(f"seed {seed}, member {row.member} failed: {row.error}")
        days.append(long)
    long = pd.concat(days, ignore_index=True)
    if long.empty:
        raise UserError(f"No member of ensemble {args.ensemble} finished a run; the errors "
                        f"are above.")
    took = time.perf_counter() - started
    print(f"\nThe seed case across ensemble {args.ensemble} ({members.source}): {count} members "
          f"x {args.seeds} seed(s), {cfg.audience.size:,} followers, {took:.0f} s in all"
          + (f"; pinned: {', '.join(sorted(pinned))}" if pinned else "") + ".")
    print(f"Each day as a share of the followers at its start: median [{ensemble.LEVEL:.0%} "
          f"interval] across members and seeds; day {burst} is the burst.\n")
    shown = ensemble.daily_intervals(long, range(burst - 1, burst + 4))
    rows = []
    for r in shown.to_dict("records"):
        label = {burst - 1: "usual", burst: "burst"}.get(r["day"], f"burst +{r['day'] - burst}")
        rows.append({"day": f"{r['day']} ({label})", "n": r["n"], **{
            COLUMNS.get(c, c): ensemble.cell(r[c], r[f"{c}_low"], r[f"{c}_high"],
                                              signed=c == "net_change_pct")
            for c in ("net_change_pct", "unfollows_pct", "flooding_share", "follows_pct")}})
    with pd.option_context("display.width", 220, "display.max_columns", 30):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
