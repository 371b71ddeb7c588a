"""Run one simulation from a composed config: validate, build, step, tabulate."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import pandas as pd
from omegaconf import DictConfig
from tqdm import tqdm

from sim.config.checks import check
from sim.config.compose import make_strategy
from sim.io.tables import outcome, timeseries
from sim.model.engines import build
from sim.model.simulation import Audience
from sim.model.strategies import Strategy


@dataclass
class Result:
    model: Audience
    timeseries: pd.DataFrame
    outcome: pd.DataFrame


def simulate(cfg: DictConfig, strategy: Strategy | None = None, progress: bool = False,
             label: str | None = None, other_strategies: str = "refuse") -> Result:
    """Validate the settings, run the model for ``cfg.days`` days and return its tables.

    ``strategy`` replaces ``cfg.strategy`` when given (a strategy object made in Python);
    ``label`` names the strategy in the outcome (default: its class name, lower case);
    ``other_strategies="ignore"`` lets settings of other strategies stand (in a mixed sweep).
    """
    check(cfg, other_strategies=other_strategies)
    strategy = strategy if strategy is not None else make_strategy(cfg)
    model = build(cfg, strategy)
    show = progress and sys.stderr.isatty()
    with tqdm(total=cfg.days, unit="day", desc="simulating", disable=not show, leave=False) as bar:
        while model.running:
            model.step()
            if model.hour % 24 == 23:
                bar.update(1)
    ts = timeseries(model)
    # math.fsum is exact: the same total on every Python (3.12 changed what sum() does)
    flooding = math.fsum(model.datacollector.model_vars["flooding"])
    out = outcome(ts, cfg, model.followers_start, strategy, label or strategy.name.lower(),
                  flooding, engine=model.engine)
    return Result(model, ts, out)
