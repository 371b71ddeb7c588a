"""Regenerate the figures in README.md and docs/ (a few minutes on two cores).

    python docs/make_figures.py

burst.png: the figure `python -m sim strategy=burst` writes (seed 0, defaults).
steady_vs_burst.png: followers and cumulative actions over time, steady against burst with the
same budget, several seeds on the default audience (mean and range across seeds).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.config.compose import settings  # noqa: E402
from sim.experiment.run import simulate  # noqa: E402
from sim.io.figures import burst_windows, save_figure  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
SEEDS = range(5)


def main() -> None:
    IMG.mkdir(exist_ok=True)
    burst = simulate(settings("strategy=burst", "seed=0"), label="burst")
    save_figure(burst.timeseries, "burst on default audience of 2,000, seed 0", IMG / "burst.png")

    runs = []
    for strategy in ("steady", "burst"):
        for seed in SEEDS:
            ts = simulate(settings(f"strategy={strategy}", f"seed={seed}")).timeseries
            runs.append(ts.assign(strategy=strategy, seed=seed,
                                  lost=(ts.unfollows + ts.mutes).cumsum(),
                                  acted=ts.actions.cumsum()))
    df = pd.concat(runs)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for strategy, colour in (("steady", "tab:blue"), ("burst", "tab:red")):
        g = df[df.strategy == strategy].groupby("hour")
        for ax, column in zip(axes, ("lost", "acted")):
            mean, low, high = g[column].mean(), g[column].min(), g[column].max()
            ax.plot(mean.index / 24, mean, color=colour, label=strategy)
            ax.fill_between(mean.index / 24, low, high, color=colour, alpha=0.2, lw=0)
    for start, end in burst_windows(burst.timeseries):
        for ax in axes:
            ax.axvspan(start, end, color="grey", alpha=0.25, lw=0)
    axes[0].set_ylabel("followers lost so far (unfollows + mutes)")
    axes[1].set_ylabel("actions on asks so far")
    for ax in axes:
        ax.set_xlabel("day")
        ax.legend(frameon=False, loc="upper left")
    fig.suptitle(f"Same budget (30 useful posts, 10 asks), 2,000 followers, "
                 f"{len(SEEDS)} seeds: mean and range")
    fig.savefig(IMG / "steady_vs_burst.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
