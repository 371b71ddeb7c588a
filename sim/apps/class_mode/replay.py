"""A replay of two strategies side by side: the same audience and seed, hour by hour in
lock-step, drawn day by day as the classroom page draws a run (followers over time, and a
sample of followers as squares coloured by their state).

The runs are the tournament's own (the same settings, engine and seed), so a replay ends where
the standings' run on that seed ended. The follower states and the sample are the classroom
page's (:mod:`sim.apps.page`), so a square means the same on both pages.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from omegaconf import DictConfig

from sim.apps.page import COLOURS, STATES, draw_squares, follower_sample
from sim.model.engines import build
from sim.model.simulation import Audience
from sim.model.strategies import Strategy

LINE_COLOURS = ("#1a9850", "#d73027")  # the top strategy green, the bottom one red


class Replay:
    """Two runs of ``cfg``, one per strategy, stepped together (on the array engine, which
    the page's sample of followers reads)."""

    def __init__(self, cfg: DictConfig, runs: list[tuple[str, Strategy]]) -> None:
        self.cfg = cfg
        self.models: list[Audience] = []
        for label, strategy in runs:
            model = build(cfg, strategy)
            model.label = label
            model.sample = follower_sample(model)
            self.models.append(model)

    @property
    def running(self) -> bool:
        return any(m.running for m in self.models)

    @property
    def day(self) -> float:
        return (self.models[0].hour + 1) / 24

    def advance(self, hours: int = 24) -> None:
        for _ in range(hours):
            for model in self.models:
                if model.running:
                    model.step()

    def figure(self) -> Figure:
        """Followers over time for both runs, then each run's sampled followers."""
        fig = Figure(figsize=(12.0, 3.9), layout="constrained")
        grid = fig.add_gridspec(1, 1 + len(self.models), width_ratios=[1.6] + [1] * len(self.models))
        ax = fig.add_subplot(grid[0])
        for model, colour in zip(self.models, LINE_COLOURS):
            followers = np.asarray(model.datacollector.model_vars["followers"], dtype=float)
            ax.plot(np.arange(len(followers)) / 24, followers, color=colour, lw=1.8,
                    label=f"{model.label}: {model.follower_count:,}")
        ax.set_xlim(0, self.cfg.days)
        ax.set_xlabel("day")
        ax.set_title(f"Followers, day {self.day:.0f} of {self.cfg.days}", fontsize=11)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize=9, loc="lower left")
        for i, model in enumerate(self.models):
            square = fig.add_subplot(grid[i + 1])
            counts = draw_squares(square, model)
            square.set_title(model.label, fontsize=11, color=LINE_COLOURS[i % 2])
            square.set_xlabel(", ".join(f"{counts[s]} {s}" for s in STATES if counts[s]),
                              fontsize=8)
        fig.legend(handles=[Patch(color=c, label=s) for s, c in zip(STATES, COLOURS)],
                   loc="outside lower center", ncol=len(STATES), frameon=False, fontsize=9)
        return fig
