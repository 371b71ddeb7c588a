"""The run's figure: followers, unfollows per hour, engagement and actions; bursts shaded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.io.files import write_whole

BURST_POSTS_PER_HOUR = 3  # an hour with at least this many posts is shaded as a burst


def burst_windows(ts: pd.DataFrame) -> list[tuple[float, float]]:
    """Contiguous runs of hours with many posts, as (start, end) in days."""
    busy = ts["posts"].to_numpy() >= BURST_POSTS_PER_HOUR
    windows, start = [], None
    for i, b in enumerate(busy):
        if b and start is None:
            start = i
        if not b and start is not None:
            windows.append((start / 24, i / 24))
            start = None
    if start is not None:
        windows.append((start / 24, len(busy) / 24))
    return windows


def plot_run(ts: pd.DataFrame, title: str) -> Figure:
    days = ts["hour"] / 24.0
    fig = Figure(figsize=(9, 8), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    ax = axes[0]
    ax.plot(days, ts["followers"], color="tab:blue")
    ax.set_ylabel("followers")
    ax.set_title(title)
    ax = axes[1]
    ax.bar(days, ts["unfollows"], width=1 / 24, color="tab:red", label="unfollows")
    ax.bar(days, ts["mutes"], width=1 / 24, bottom=ts["unfollows"], color="tab:orange",
           label="mutes")
    ax.set_ylabel("per hour")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left", frameon=False)
    ax = axes[2]
    daily = ts.groupby("day")[["engagements", "actions"]].sum()
    ax.plot(daily.index + 0.5, daily["engagements"], marker="o", ms=3, label="engagements")
    ax.plot(daily.index + 0.5, daily["actions"], marker="s", ms=3, label="actions on asks")
    ax.set_ylabel("per day")
    ax.set_xlabel("day")
    ax.legend(loc="upper left", frameon=False)
    for start, end in burst_windows(ts):
        for a in axes:
            a.axvspan(start, end, color="grey", alpha=0.25, lw=0)
    axes[0].text(0.99, 0.02, "shaded: burst (≥3 posts an hour)", transform=axes[0].transAxes,
                 ha="right", va="bottom", fontsize=8, color="dimgrey")
    return fig


def save_figure(ts: pd.DataFrame, title: str, path: Path) -> None:
    save(plot_run(ts, title), path, dpi=110)


def save(fig: Figure, path: Path, dpi: int = 110) -> None:
    """Write a figure whole as PNG. Figures are made with matplotlib.figure.Figure, never
    through pyplot, so sim leaves the backend of a notebook that imports it alone."""
    write_whole(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
