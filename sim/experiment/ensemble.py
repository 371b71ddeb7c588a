"""A run over an ensemble: the same run once per member parameter set, and the median and 90 %
interval of its outcomes across the members (and across seeds, where there are several).

An ensemble (:mod:`sim.config.ensembles`) holds parameter sets that all reproduce the
calibration patterns P1-P15 (``python -m sim.calibrate``). Each member runs with the base
run's settings and seed and its own parameters; a parameter given on the command line is
pinned: it keeps the given value in every member. A member whose run fails is a row with
``status=failed`` and its error; the others go on.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.config.ensembles import MEMBER, Ensemble
from sim.experiment.run import simulate
from sim.io.tables import daily

LEVEL = 0.90  # the interval's coverage: from the 5th to the 95th percentile
QUANTILES = ((1 - LEVEL) / 2, 0.5, 1 - (1 - LEVEL) / 2)
FINISHED, FAILED = "finished", "failed"
OUTCOMES = {  # what an ensemble run reports, and how the text names it
    "net_change_pct": "net change in followers (%)",
    "follows": "new followers",
    "unfollows": "unfollows",
    "mutes": "mutes",
    "engagements": "engagements",
    "actions": "actions on asks",
    "flooding_share": "share of unfollows due to flooding",
}
DAILY = ("net_change_pct", "follows_pct", "unfollows_pct", "mutes_pct", "flooding_share",
         "actions")


def given_keys(overrides: Iterable[str]) -> set[str]:
    """The settings a command line gives (``key=value``, ``+key=value``, ``++key=value``)."""
    return {str(o).partition("=")[0].lstrip("+~") for o in overrides if "=" in str(o)}


def member_config(cfg: DictConfig, values: dict[str, float], pinned: Iterable[str] = ()
                  ) -> DictConfig:
    """The base run's settings with a member's parameters set, except those ``pinned``."""
    pinned = set(pinned)
    member = copy.deepcopy(cfg)
    with _writable(member):
        member.ensemble = None
        for key, value in values.items():
            if key not in pinned:
                OmegaConf.update(member, key, value, merge=False)
    return member


class _writable:
    def __init__(self, cfg: DictConfig) -> None:
        self.cfg, self.readonly = cfg, OmegaConf.is_readonly(cfg)

    def __enter__(self) -> None:
        OmegaConf.set_readonly(self.cfg, False)

    def __exit__(self, *exc) -> None:
        OmegaConf.set_readonly(self.cfg, self.readonly)


def run_members(cfg: DictConfig, ensemble: Ensemble, pinned: Iterable[str] = (),
                label: str | None = None, other_strategies: str = "refuse",
                limit: int | None = None,
                progress: Callable[[str], None] | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every member (the first ``limit``) run with ``cfg``'s settings and seed: (one row per
    member with its status, parameters and outcome; one row per member and day)."""
    rows, days = [], []
    members = ensemble.members(limit)
    pinned = set(pinned)
    for i, (member, values) in enumerate(members):
        started = time.perf_counter()
        shown = {k: v for k, v in values.items() if k not in pinned}
        row = {MEMBER: member, "status": FINISHED, "error": "", **shown}
        try:
            result = simulate(member_config(cfg, values, pinned), label=label,
                              other_strategies=other_strategies)
        except Exception as e:  # noqa: BLE001 - a failed member is a row; the others go on
            row.update(status=FAILED, error=f"{type(e).__name__}: {' '.join(str(e).split())}")
        else:
            row.update(result.outcome.iloc[0].to_dict())
            table = daily(result.timeseries, result.model.followers_start)
            days.append(table.assign(**{MEMBER: member, "seed": int(cfg.seed)}))
        rows.append(row)
        if progress is not None:
            progress(f"member {member} ({i + 1} of {len(members)}): {row['status']}"
                     f" ({time.perf_counter() - started:.1f} s)")
    table = pd.DataFrame(rows)
    long = pd.concat(days, ignore_index=True) if days else pd.DataFrame()
    if len(long):
        long = long[[MEMBER, "seed", *[c for c in long.columns if c not in (MEMBER, "seed")]]]
    return table, long


def interval(values) -> tuple[float, float, float]:
    """(median, low, high): the median and the central 90 % interval (5th to 95th
    percentile, linear interpolation) of ``values``; NaN when there are none."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan, np.nan, np.nan
    low, median, high = np.quantile(values, QUANTILES)
    return float(median), float(low), float(high)


def summarise(table: pd.DataFrame, outcomes: Iterable[str] = OUTCOMES,
              by: list[str] | None = None) -> pd.DataFrame:
    """Per group (``by``) and outcome, over the finished rows (members, and seeds where a
    group has several): count, median, 90 % interval, and the smallest and largest."""
    finished = table[table.status == FINISHED] if "status" in table else table
    groups = finished.groupby(by, sort=False, dropna=False) if by else [((), finished)]
    rows = []
    for group, part in groups:
        group = dict(zip(by or [], group if isinstance(group, tuple) else (group,)))
        for outcome in outcomes:
            if outcome not in part:
                continue
            values = pd.to_numeric(part[outcome], errors="coerce").dropna().to_numpy(float)
            if not len(values):
                continue
            median, low, high = interval(values)
            rows.append({**group, "outcome": outcome, "n": len(values), "median": median,
                         "low": low, "high": high, "min": float(values.min()),
                         "max": float(values.max())})
    return pd.DataFrame(rows)


def cell(median: float, low: float, high: float, signed: bool = False) -> str:
    fmt = "{:+.2f}" if signed else "{:.2f}"
    return f"{fmt.format(median)} [{fmt.format(low)}, {fmt.format(high)}]"


def describe(table: pd.DataFrame, name: str, seeds: str) -> str:
    """The ensemble's outcomes in words: median [90 % interval] per outcome."""
    finished = int((table.status == FINISHED).sum())
    failed = len(table) - finished
    lines = [f"  across ensemble {name}: {finished} of {len(table)} members ran"
             + (f" ({failed} failed: see ensemble.csv)" if failed else "")
             + f", {seeds}; median [{LEVEL:.0%} interval] (smallest to largest):"]
    summary = summarise(table)
    width = max(len(v) for v in OUTCOMES.values())
    for row in summary.itertuples():
        lines.append(f"    {OUTCOMES[row.outcome]:<{width}}  "
                     f"{cell(row.median, row.low, row.high):<28} "
                     f"({row.min:.2f} to {row.max:.2f})")
    return "\n".join(lines)


def daily_intervals(long: pd.DataFrame, days: Iterable[int],
                    columns: Iterable[str] = DAILY) -> pd.DataFrame:
    """Per day, median and 90 % interval across members (and seeds) of daily measures."""
    rows = []
    for day in days:
        part = long[long.day == day]
        row: dict = {"day": int(day), "n": len(part)}
        for column in columns:
            median, low, high = interval(part[column])
            row |= {column: median, f"{column}_low": low, f"{column}_high": high}
        rows.append(row)
    return pd.DataFrame(rows)
