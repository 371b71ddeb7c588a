"""Run one simulation from a composed config: validate, build, step, tabulate."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import hydra.utils
import pandas as pd
from hydra.errors import InstantiationException
from omegaconf import DictConfig
from tqdm import tqdm

from sim.config import SettingError, check
from sim.model import AudienceModel
from sim.strategies import Strategy
from sim.tables import outcome, timeseries


@dataclass
class Result:
    model: AudienceModel
    timeseries: pd.DataFrame
    outcome: pd.DataFrame


def make_strategy(cfg: DictConfig) -> Strategy:
    """Instantiate ``cfg.strategy``, or a :class:`SettingError` that says what is allowed."""
    target = cfg.strategy.get("_target_")
    allowed = ("a built-in (strategy=steady, burst, broadcast, silent, obama_2011) or an "
               "importable subclass of sim.Strategy, e.g. strategy._target_=mymodule.MyStrategy "
               "(run from the folder that holds mymodule.py)")
    try:
        strategy = hydra.utils.instantiate(cfg.strategy)
    except InstantiationException as e:
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise SettingError(f"Setting 'strategy._target_' = {target!r} cannot be used: {reason} "
                           f"Allowed: {allowed}.") from None
    if not isinstance(strategy, Strategy):
        raise SettingError(f"Setting 'strategy._target_' = {target!r} is not a sim.Strategy "
                           f"(it made a {type(strategy).__name__}). Allowed: {allowed}.")
    return strategy


def simulate(cfg: DictConfig, strategy: Strategy | None = None, progress: bool = False,
             label: str | None = None) -> Result:
    """Validate the settings, run the model for ``cfg.days`` days and return its tables.

    ``strategy`` replaces ``cfg.strategy`` when given (a strategy object made in Python);
    ``label`` names the strategy in the outcome (default: its class name, lower case).
    """
    check(cfg)
    strategy = strategy if strategy is not None else make_strategy(cfg)
    model = AudienceModel(cfg, strategy)
    show = progress and sys.stderr.isatty()
    with tqdm(total=cfg.days, unit="day", desc="simulating", disable=not show, leave=False) as bar:
        while model.running:
            model.step()
            if model.hour % 24 == 23:
                bar.update(1)
    ts = timeseries(model)
    flooding = float(sum(model.datacollector.model_vars["flooding"]))
    out = outcome(ts, cfg, model.followers_start, label or strategy.name.lower(), flooding)
    return Result(model, ts, out)
