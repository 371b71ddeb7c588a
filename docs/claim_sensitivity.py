"""When does steady stop beating burst? The essay's claim under changed settings.

For each variant, steady and burst run on the same audiences and seeds with the same budget;
the table gives steady minus burst in followers at the end (in % of the audience at the start)
and in actions on asks, as the mean over seeds with a 95 % interval (paired by seed, t
distribution). The variants move one setting to an end of its stated range (ODD 8.1) or
change the contest. docs/ODD.md section 10.1 quotes the table made by

    python docs/claim_sensitivity.py --seeds 5 --size 30000 --engine vector \
        --out docs/results/claim_sensitivity_model2.csv
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from sim.config.compose import settings
from sim.experiment.run import simulate
from sim.io.files import write_csv

STEADY, BURST = ("strategy=steady",), ("strategy=burst",)
ANSWERS = ("strategy.reply_share=0.5", "strategy.reply_capacity=20")  # as steady answers
# name: (settings for both, for the steady side, for the burst side)
VARIANTS = {
    "defaults": ((), STEADY, BURST),
    "steady never replies (broadcast)": ((), ("strategy=broadcast",), BURST),
    "2 asks instead of 10": (("budget.asks=2",), STEADY, BURST),
    "40 asks instead of 10": (("budget.asks=40",), STEADY, BURST),
    "3 useful posts a day": (("budget.posts_per_day=3",), STEADY, BURST),
    "no annoyance (gain 0)": (("behaviour.annoyance.gain=0",), STEADY, BURST),
    "annoyance saturates early (saturation 1)": (("behaviour.annoyance.saturation=1",), STEADY,
                                                 BURST),
    "annoyance saturates late (saturation 30)": (("behaviour.annoyance.saturation=30",), STEADY,
                                                 BURST),
    "annoyance fades fast (half-life 3 h)": (("behaviour.annoyance.half_life_hours=3",),
                                             STEADY, BURST),
    "annoyance lingers (half-life 48 h)": (("behaviour.annoyance.half_life_hours=48",),
                                           STEADY, BURST),
    "a platform with no mute (twitter_2011)": (("platform=twitter_2011",), STEADY, BURST),
    "an answer is no sturdier a tie (acknowledged_factor 1)": (
        ("behaviour.leaving.acknowledged_factor=1",), STEADY, BURST),
    "answers bring nobody (reply_reach 0)": (("behaviour.growth.reply_reach=0",), STEADY,
                                             BURST),
    "asks cost no credit (ask_cost 0)": (("behaviour.reciprocity.ask_cost=0",), STEADY, BURST),
    "credit does not matter (sensitivity 0)": (("behaviour.reciprocity.sensitivity=0",),
                                               STEADY, BURST),
    "burst keeps the daily cadence (quiet_share 1)": ((), STEADY,
                                                      BURST + ("strategy.quiet_share=1",)),
    "burst spread over 3 days (burst_hours 72)": ((), STEADY, BURST + ("strategy.burst_hours=72",)),
    # Where the claim may stop holding: take away what separates the two.
    "burst answers as steady does": ((), STEADY, BURST + ANSWERS),
    "no annoyance, burst answers as steady does": (("behaviour.annoyance.gain=0",), STEADY,
                                                   BURST + ANSWERS),
    "2 asks, burst keeps the daily cadence and answers": (
        ("budget.asks=2",), STEADY, BURST + ("strategy.quiet_share=1",) + ANSWERS),
}


def outcome(seed: int, size: int, engine: str, *overrides: str) -> pd.Series:
    return simulate(settings(f"seed={seed}", f"audience.size={size}", f"engine={engine}",
                             *overrides)).outcome.iloc[0]


def interval(diffs: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % interval (t distribution; no width from a single seed)."""
    d = np.asarray(diffs, float)
    half = (stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0
    return d.mean(), d.mean() - half, d.mean() + half


def shown(m: tuple[float, float, float]) -> str:
    return f"{m[0]:+.2f} [{m[1]:+.2f}, {m[2]:+.2f}]"


def verdict(*intervals: tuple[float, float, float]) -> str:
    """yes: steady ahead on every measure beyond the interval; no: behind on one; else open."""
    if all(lo > 0 for _, lo, _ in intervals):
        return "yes"
    return "no" if any(hi < 0 for _, _, hi in intervals) else "open"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--size", type=int, default=2000)
    p.add_argument("--engine", choices=("agents", "vector", "auto"), default="auto")
    p.add_argument("--out", default=None, help="also write the table as CSV to this file")
    p.add_argument("--only", nargs="*", default=None, help="variants whose names contain these")
    args = p.parse_args()
    rows = []
    for name, (both, steady, burst) in VARIANTS.items():
        if args.only and not any(word in name for word in args.only):
            continue
        d_followers, d_actions = [], []
        for seed in range(args.seeds):
            s = outcome(seed, args.size, args.engine, *both, *steady)
            b = outcome(seed, args.size, args.engine, *both, *burst)
            d_followers.append(100.0 * (s.followers_end - b.followers_end) / args.size)
            d_actions.append(s.actions - b.actions)
        f, a = interval(d_followers), interval(d_actions)
        rows.append({"variant": name, "followers %: steady - burst": shown(f),
                     "actions: steady - burst": shown(a), "holds": verdict(f, a)})
        print(" | ".join(map(str, rows[-1].values())), flush=True)
    table = pd.DataFrame(rows)
    print(f"\n{args.size:,} followers, engine {args.engine}, seeds 0-{args.seeds - 1}; "
          "mean [95 % interval]; holds: steady ahead on both beyond the interval (yes), behind on one "
          "(no), or neither (open)\n")
    print(table.to_string(index=False))
    if args.out:
        write_csv(table, args.out)


if __name__ == "__main__":
    main()
