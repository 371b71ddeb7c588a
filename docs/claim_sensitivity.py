"""When does steady stop beating burst? The essay's claim under changed settings.

For each variant, steady and burst run on the same audiences and seeds with the same budget;
the table gives steady minus burst in followers at the end and in actions, as the mean over
seeds with a 95 % interval (paired by seed, t distribution). docs/ODD.md section 10 quotes it.

    python docs/claim_sensitivity.py --seeds 5 --size 2000
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from sim.config.compose import settings
from sim.experiment.run import simulate

STEADY, BURST = ("strategy=steady",), ("strategy=burst",)
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
    "asks cost no credit (ask_cost 0)": (("behaviour.reciprocity.ask_cost=0",), STEADY, BURST),
    "credit does not matter (sensitivity 0)": (("behaviour.reciprocity.sensitivity=0",),
                                               STEADY, BURST),
    "burst keeps the daily cadence (quiet_share 1)": ((), STEADY,
                                                      BURST + ("strategy.quiet_share=1",)),
    "burst spread over 3 days (burst_hours 72)": ((), STEADY, BURST + ("strategy.burst_hours=72",)),
}


def outcome(seed: int, size: int, *overrides: str) -> pd.Series:
    return simulate(settings(f"seed={seed}", f"audience.size={size}", *overrides)).outcome.iloc[0]


def interval(diffs: np.ndarray) -> str:
    mean = diffs.mean()
    if len(diffs) < 2:
        return f"{mean:+.1f}"
    half = stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / np.sqrt(len(diffs))
    return f"{mean:+.1f} [{mean - half:+.1f}, {mean + half:+.1f}]"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--size", type=int, default=2000)
    args = p.parse_args()
    rows = []
    for name, (both, steady, burst) in VARIANTS.items():
        d_followers, d_actions = [], []
        for seed in range(args.seeds):
            s = outcome(seed, args.size, *both, *steady)
            b = outcome(seed, args.size, *both, *burst)
            d_followers.append(s.followers_end - b.followers_end)
            d_actions.append(s.actions - b.actions)
        rows.append({"variant": name,
                     "followers: steady - burst": interval(np.array(d_followers, float)),
                     "actions: steady - burst": interval(np.array(d_actions, float))})
        print(" | ".join(rows[-1].values()), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
