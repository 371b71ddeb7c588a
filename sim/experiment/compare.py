"""Compare sweeps: each outcome's mean with a 95 % confidence interval across seeds, per strategy
and swept setting, and the differences between strategies::

    python -m sim.compare results/sweeps/A [results/sweeps/B ...] [--out FOLDER]

Runs are grouped by the strategy and by every setting that differs between the runs (seeds
aside), so sweeps that swept different settings still line up: a sweep that held a setting
fixed is compared at its value, and the report says so. Writes ``summary.csv``,
``differences.csv`` and one figure per headline outcome plus ``followers_over_time.png`` into
``<sweep>/compare/`` (one sweep) or ``results/compare/<time>/`` (several).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.errors import CollectError, CompareError
from sim.experiment import collect, ensemble
from sim.experiment.stats import LEVEL, interval, welch
from sim.io.figures import save
from sim.io.files import write_folder

OUTCOMES = {  # outcome column: how tables and figures name it
    "net_change_pct": "net change in followers (%)",
    "followers_end": "followers at the end",
    "follows": "new followers",
    "unfollows": "unfollows",
    "mutes": "mutes",
    "impressions": "impressions",
    "engagements": "engagements",
    "comments": "comments",
    "replies_given": "replies given",
    "actions": "actions on asks",
    "peak_hourly_unfollows": "most unfollows in one hour",
    "flooding_share": "share of unfollows due to flooding",
}
COUNTS = set(OUTCOMES) - {"net_change_pct"}  # never below zero
HEADLINE = ["net_change_pct", "unfollows", "mutes", "engagements", "actions"]
NOT_COMPARED = {"seed", "resume"}  # seeds are the replicates; resume is how a sweep ran
MAX_PANELS = 12
ENSEMBLE_FILE = "ensemble.csv"  # in a run's folder when it ran over an ensemble


@dataclass
class Sweep:
    """One sweep's finished runs: outcomes, settings (flattened config) and time series."""

    folder: Path
    swept: list[str]        # the settings that vary between its runs (seed included)
    runs: pd.DataFrame      # one row per finished run: settings, strategy label, outcomes
    timeseries: pd.DataFrame
    left_out: int = 0       # runs that failed or did not finish
    name: str = ""          # how the report names it (the folder's name unless ambiguous)
    members: pd.DataFrame = field(default_factory=pd.DataFrame)  # ensemble runs' members

    def __post_init__(self) -> None:
        self.name = self.name or self.folder.name


GROUPS = ("audience", "behaviour")  # a swept group is known by its name setting


def read(folder: Path, name: str | None = None) -> Sweep:
    """A sweep's finished runs; a :class:`CompareError` if it is not a sweep or none finished."""
    folder = Path(folder)
    try:
        found = collect.runs(folder)
    except CollectError as e:
        raise CompareError(str(e)) from e
    outcomes, timeseries = collect.tables(found)
    finished = outcomes[outcomes.status == collect.FINISHED]
    if finished.empty:
        raise CompareError(f"'{folder}' has no finished runs ({len(outcomes)} runs: "
                           f"{', '.join(f'{n} {s}' for s, n in outcomes.status.value_counts().items())}). "
                           f"Finish it with resume=true and the same hydra.sweep.dir, then compare.")
    given, rows = {}, []
    for run in found:
        for key, value in run.settings.items():
            key = f"{key}.name" if key in GROUPS else key
            given.setdefault(key, set()).add(str(value))
        flat = pd.json_normalize(run.config, sep=".").iloc[0].to_dict()
        rows.append({"run": run.id, **{k: _hashable(v) for k, v in flat.items()}})
    settings = pd.DataFrame(rows)
    swept = [k for k, values in given.items() if len(values) > 1]  # set once is not swept
    measured = finished[["run", *[c for c in ("strategy", "version", "followers_start")
                                  if c in finished], *[c for c in OUTCOMES if c in finished]]]
    runs = measured.merge(settings, on="run", how="left", suffixes=("", "_setting"))
    name = name or folder.name
    runs.insert(0, "sweep", name)
    if len(timeseries):
        timeseries = timeseries.assign(sweep=name)
    members = [pd.read_csv(run.folder / ENSEMBLE_FILE).assign(run=run.id) for run in found
               if run.status == collect.FINISHED and (run.folder / ENSEMBLE_FILE).is_file()]
    members = pd.concat(members, ignore_index=True).assign(sweep=name) if members else \
        pd.DataFrame()
    return Sweep(folder, swept, runs, timeseries, len(outcomes) - len(finished), name, members)


def _hashable(value):
    return str(value) if isinstance(value, (list, dict)) else value


def grouping(sweeps: list[Sweep]) -> tuple[list[str], list[str]]:
    """(keys, notes): the settings to group runs by (strategy first) and, in words, how the
    sweeps differ. A setting is kept only if the keys before it do not already fix it (e.g.
    strategy.asks follows from budget.asks, burst's own settings from the strategy)."""
    columns = list(dict.fromkeys(c for s in sweeps for c in s.runs.columns))
    for s in sweeps:  # a setting one sweep lacks (e.g. burst's own) is n/a in the others
        s.runs = s.runs.reindex(columns=columns)
    table = pd.concat([s.runs for s in sweeps], ignore_index=True)
    text = table.astype(str)
    swept = list(dict.fromkeys(k for s in sweeps for k in s.swept))
    candidates = [c for c in table.columns if ("." in c or c in {"days", "engine", "ensemble"})
                  and c not in NOT_COMPARED]  # settings, not outcomes
    varied = {c for c in candidates if text[c].nunique() > 1}
    order = ["strategy"] + [k for k in swept if k in varied]
    order += sorted(varied - set(order))
    keys: list[str] = []
    for key in order:
        if not (keys and _fixed(text, key, keys)):
            keys.append(key)
    return keys, _notes(sweeps, keys, [k for k in order if k in varied and k not in swept], table)


def _fixed(text: pd.DataFrame, key: str, by: list[str]) -> bool:
    """Whether ``by`` leaves ``key`` a single value in every group."""
    return bool(text.groupby([text[k] for k in by])[key].nunique().max() <= 1)


def _notes(sweeps: list[Sweep], keys: list[str], unswept: list[str],
           table: pd.DataFrame) -> list[str]:
    notes = []
    if len(sweeps) > 1:
        swept_sets = {s.name: [k for k in s.swept if k not in NOT_COMPARED] for s in sweeps}
        if len({tuple(sorted(v)) for v in swept_sets.values()}) > 1:
            notes.append("The sweeps vary different settings: " + "; ".join(
                f"{name} sweeps {', '.join(v) or 'nothing but seeds'}"
                for name, v in swept_sets.items()) + ".")
    for key in keys[1:]:
        by = [s for s in sweeps if key in s.swept]
        for s in sweeps:
            if by and s not in by:
                held = ", ".join("n/a" if pd.isna(v) else str(v) for v in s.runs[key].unique())
                notes.append(f"{s.name} does not sweep {key}; its runs have {key}={held} and are "
                             f"compared at that value.")
    text, told = table.astype(str), []
    for key in unswept:  # differences between the sweeps that no sweep asked for
        if any(text.loc[table.sweep == s.name, key].nunique() > 1 for s in sweeps):
            continue  # varies inside a sweep: follows from what it sweeps
        if any(_fixed(text, key, [k]) for k in told):
            continue  # follows from one already told (e.g. strategy.asks from budget.asks)
        told.append(key)
        values = "; ".join(f"{s.name}: {', '.join(map(str, s.runs[key].unique()))}"
                           for s in sweeps)
        fixing = [k for k in keys if _fixed(text, key, [k])]  # the setting that decides it
        along = fixing[0] if fixing else "the sweep a run comes from"
        also = ("runs are grouped by it as well" if key in keys else
                f"it goes together with {along}, so a difference along {along} is partly a "
                f"difference in {key}")
        notes.append(f"The sweeps also differ in {key}, which none of them sweeps ({values}); "
                     f"{also}.")
    for s in sweeps:
        if s.left_out:
            notes.append(f"{s.name}: {s.left_out} run(s) failed or did not finish and are left "
                         f"out (see its outcomes.csv).")
    if "version" in table and table.version.nunique() > 1:
        notes.append("The runs come from different sim versions (" +
                     ", ".join(map(str, table.version.unique())) + "); the model may differ.")
    return notes


# --- statistics -----------------------------------------------------------------------------

def summarise(table: pd.DataFrame, keys: list[str], outcomes: list[str]) -> pd.DataFrame:
    """One row per group and outcome: runs, mean, 95 % interval, standard deviation."""
    rows = []
    for group, runs in table.groupby(keys, sort=False, dropna=False):
        group = dict(zip(keys, group if isinstance(group, tuple) else (group,)))
        for outcome in outcomes:
            values = runs[outcome].dropna().to_numpy(dtype=float)
            if not len(values):
                continue
            mean, low, high = interval(values)
            if outcome in COUNTS:  # a count's interval stops at zero
                low = max(low, 0.0) if not np.isnan(low) else low
            rows.append({**group, "outcome": outcome, "runs": len(values), "mean": mean,
                         "ci_low": low, "ci_high": high,
                         "sd": values.std(ddof=1) if len(values) > 1 else np.nan})
    return pd.DataFrame(rows)


def differences(table: pd.DataFrame, keys: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Every pair of strategies at the same other settings: mean of the first minus the second
    with a 95 % interval. Paired by seed on the seeds both ran (common random numbers), else
    Welch's. A setting a strategy does not have (burst's timing, for steady) matches every
    value, so steady is compared with burst at each burst timing."""
    others = keys[1:]
    names = list(dict.fromkeys(table.strategy))
    rows = []
    for setting in table[others].drop_duplicates().to_dict("records") if others else [{}]:
        for a, b in itertools.combinations(names, 2):
            ra, rb = _matching(table, a, setting), _matching(table, b, setting)
            if ra.empty or rb.empty:
                continue
            common = sorted(set(ra.seed) & set(rb.seed))
            # paired whenever each seed ran once on both sides (one seed too: no interval then)
            paired = ra.seed.is_unique and rb.seed.is_unique and len(common) >= 1
            for outcome in outcomes:
                if paired:
                    d = (ra.set_index("seed")[outcome].loc[common]
                         - rb.set_index("seed")[outcome].loc[common]).dropna()
                    diff, low, high = interval(d.to_numpy(dtype=float))
                else:
                    diff, low, high = welch(ra[outcome].dropna().to_numpy(dtype=float),
                                             rb[outcome].dropna().to_numpy(dtype=float))
                rows.append({**setting, "strategy": a, "minus": b, "outcome": outcome,
                             "difference": diff, "ci_low": low, "ci_high": high,
                             "paired_by_seed": paired,
                             "runs": len(common) if paired else min(len(ra), len(rb))})
    return pd.DataFrame(rows).drop_duplicates(subset=None) if rows else pd.DataFrame(rows)


def _matching(table: pd.DataFrame, strategy: str, setting: dict) -> pd.DataFrame:
    runs = table[table.strategy == strategy]
    for key, value in setting.items():
        if runs[key].isna().all():
            continue  # the strategy has no such setting: it matches every value
        runs = runs[runs[key].isna()] if pd.isna(value) else runs[runs[key] == value]
    return runs


# --- report ---------------------------------------------------------------------------------

def _cell(mean: float, low: float, high: float, signed: bool = False) -> str:
    fmt = "{:+.2f}" if signed else "{:.2f}"
    if np.isnan(low):
        return fmt.format(mean)
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def report(summary: pd.DataFrame, diffs: pd.DataFrame, keys: list[str], notes: list[str],
           sweeps: list[Sweep], outcomes: list[str]) -> str:
    """The tables as text: per outcome, a row per setting and a column per strategy."""
    others = keys[1:]
    runs = sum(len(s.runs) for s in sweeps)
    lines = [f"Compared {runs} finished runs from {len(sweeps)} sweep(s): "
             + ", ".join(str(s.folder) for s in sweeps),
             f"Grouped by {', '.join(keys)}; mean [{LEVEL:.0%} interval] across seeds."]
    lines += [f"Note: {n}" for n in notes]
    if len(diffs) and not diffs.paired_by_seed.all():
        lines.append("Note: differences marked * are not paired by seed (Welch's interval).")
    lines += _outcome_tables(
        summary, diffs, others, outcomes,
        lambda p: [_cell(m, lo, hi) + f" n={n}"
                   for m, lo, hi, n in zip(p["mean"], p.ci_low, p.ci_high, p.runs)],
        lambda d: [_cell(m, lo, hi, signed=True) + ("" if paired else " *")
                   for m, lo, hi, paired in
                   zip(d.difference, d.ci_low, d.ci_high, d.paired_by_seed)])
    return "\n".join(lines)


def _outcome_tables(summary: pd.DataFrame, diffs: pd.DataFrame, others: list[str],
                    outcomes: list[str], cells, diff_cells) -> list[str]:
    """Per outcome, a row per setting and a column per strategy, then a column per
    difference; ``cells`` and ``diff_cells`` write a table's cells (means or medians)."""
    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**{k: frame[k].astype(object).where(frame[k].notna(), "n/a")
                               for k in others})
    lines: list[str] = []
    for outcome in outcomes:
        part = shown(summary[summary.outcome == outcome])
        if part.empty:
            continue
        part = part.assign(cell=cells(part))
        table = (part.pivot_table(index=others, columns="strategy", values="cell",
                                  aggfunc="first", sort=False)
                 if others else part.set_index("strategy")[["cell"]].T)
        d = shown(diffs[diffs.outcome == outcome]) if len(diffs) else diffs
        if len(d):
            d = d.assign(name=[f"{a} - {b}" for a, b in zip(d.strategy, d.minus)],
                         cell=diff_cells(d))
            extra = (d.pivot_table(index=others, columns="name", values="cell",
                                   aggfunc="first", sort=False)
                     if others else d.set_index("name")[["cell"]].T)
            table = table.join(extra) if others else pd.concat([table, extra], axis=1)
        if not others:
            table.index = [""]
        lines += ["", OUTCOMES.get(outcome, outcome) + ":", table.to_string(na_rep="-")]
    return lines


# --- figures --------------------------------------------------------------------------------

def _panels(frame: pd.DataFrame, facets: list[str]):
    if not facets:
        return [("", frame)]
    groups = list(frame.groupby(facets, sort=True, dropna=False))
    return [(", ".join(f"{k}={v}" for k, v in zip(facets, g if isinstance(g, tuple) else (g,))),
             part) for g, part in groups][:MAX_PANELS]


def _grid(n: int, width: float = 7.0, height: float = 4.6):
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)


def outcome_figure(summary: pd.DataFrame, outcome: str, keys: list[str]) -> Figure:
    """The outcome against the first swept setting, a line per strategy with its interval;
    further settings become panels. Without a swept setting, one point per strategy."""
    part = summary[summary.outcome == outcome]
    others = keys[1:]
    x_key = others[0] if others else None
    panels = _panels(part, others[1:])
    fig, axes = _grid(len(panels))
    strategies, colours = _colours(part)
    for ax, (title, frame) in zip(axes, panels):
        if x_key is None:
            for i, s in enumerate(strategies):
                row = frame[frame.strategy == s].iloc[0]
                ax.errorbar([i], [row["mean"]], yerr=_yerr(row), fmt="o", ms=8, capsize=6,
                            color=colours[s], lw=2)
            ax.set_xticks(range(len(strategies)), strategies)
            ax.set_xlim(-0.6, len(strategies) - 0.4)
        else:
            numeric = pd.api.types.is_numeric_dtype(frame[x_key])
            levels = list(dict.fromkeys(frame[x_key].dropna()))
            for j, s in enumerate(strategies):
                rows = frame[frame.strategy == s]
                if len(rows) and rows[x_key].isna().all():  # it has no such setting: a level
                    row = rows.iloc[0]
                    ax.axhline(row["mean"], color=colours[s], lw=2, ls="--",
                               label=f"{s} (no {x_key})")
                    if not np.isnan(row["ci_low"]):
                        ax.axhspan(row["ci_low"], row["ci_high"], color=colours[s], alpha=0.15,
                                   lw=0)
                    continue
                if numeric:  # dodged a little so that equal intervals stay visible
                    rows = rows.sort_values(x_key)
                    span = np.ptp(frame[x_key].to_numpy(dtype=float)) or 1.0
                    x = rows[x_key].to_numpy(dtype=float) + 0.012 * span * (
                        j - (len(strategies) - 1) / 2)
                else:
                    x = np.array([levels.index(v) for v in rows[x_key]]) + 0.08 * (
                        j - (len(strategies) - 1) / 2)
                ax.errorbar(x, rows["mean"], yerr=_yerr(rows), marker="o", ms=6, capsize=4,
                            lw=2, color=colours[s], label=s)
            if not numeric:
                ax.set_xticks(range(len(levels)), [str(v) for v in levels])
            elif len(levels) < 2:
                ax.set_xticks(levels, [str(v) for v in levels])
            ax.set_xlabel(x_key)
            ax.legend(title="strategy", frameon=False)
        if outcome == "net_change_pct":
            ax.axhline(0, color="grey", lw=1)
        ax.set_ylabel(OUTCOMES.get(outcome, outcome))
        if title:
            ax.set_title(title, fontsize=11)
        _style(ax)
    runs = int(part.runs.min()) if len(part) else 0
    _titles(fig, OUTCOMES.get(outcome, outcome).capitalize(),
            f"mean over seeds with its {LEVEL:.0%} confidence interval, at least "
            f"{runs} run{'' if runs == 1 else 's'} per point")
    return fig


def _titles(fig: Figure, title: str, subtitle: str) -> None:
    fig.suptitle(f"{title}\n{subtitle}", fontsize=12)


def _colours(frame: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """Strategies in order of appearance, each with the same colour in every figure."""
    strategies = list(dict.fromkeys(frame.strategy))
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return strategies, {s: cycle[i % len(cycle)] for i, s in enumerate(strategies)}


def _yerr(rows) -> np.ndarray:
    mean = np.atleast_1d(np.asarray(rows["mean"], dtype=float))
    low = np.atleast_1d(np.asarray(rows["ci_low"], dtype=float))
    high = np.atleast_1d(np.asarray(rows["ci_high"], dtype=float))
    return np.nan_to_num(np.vstack([mean - low, high - mean]))


def followers_figure(table: pd.DataFrame, timeseries: pd.DataFrame, keys: list[str]) -> Figure:
    """Net change in followers over time: a band (mean and interval over seeds) per strategy,
    a panel per combination of the other settings."""
    ts = timeseries.merge(table[["sweep", "run", "followers_start", *keys]], on=["sweep", "run"])
    ts["change"] = 100.0 * (ts.followers / ts.followers_start - 1.0)
    panels = _panels(ts, keys[1:])
    fig, axes = _grid(len(panels))
    strategies, colours = _colours(table)
    for ax, (title, frame) in zip(axes, panels):
        for s in strategies:
            runs = frame[frame.strategy == s]
            if runs.empty:
                continue
            wide = runs.pivot(index="hour", columns=["sweep", "run"], values="change")
            band = np.array([interval(row[~np.isnan(row)]) for row in wide.to_numpy(dtype=float)])
            days = wide.index.to_numpy() / 24.0
            ax.plot(days, band[:, 0], color=colours[s], lw=2,
                    label=f"{s} ({wide.shape[1]} runs)")
            if wide.shape[1] > 1:
                ax.fill_between(days, band[:, 1], band[:, 2], color=colours[s], alpha=0.25,
                                lw=0)
        ax.axhline(0, color="grey", lw=1)
        ax.set_xlabel("day")
        ax.set_ylabel("net change in followers (%)")
        if title:
            ax.set_title(title, fontsize=11)
        ax.legend(title="strategy", frameon=False, loc="upper left")
        _style(ax)
    _titles(fig, "Followers over time", f"mean over seeds, with the {LEVEL:.0%} confidence "
                                        f"band of the mean")
    return fig


# --- ensembles ------------------------------------------------------------------------------

def ensemble_differences(members: pd.DataFrame, keys: list[str],
                         outcomes: list[str]) -> pd.DataFrame:
    """Every pair of strategies at the same other settings, member by member and seed by seed
    (each member ran both strategies on the same seeds): the median difference and its 90 %
    interval across members and seeds."""
    members = members[members.status == ensemble.FINISHED]
    others = keys[1:]
    names = list(dict.fromkeys(members.strategy))
    rows = []
    for setting in members[others].drop_duplicates().to_dict("records") if others else [{}]:
        for a, b in itertools.combinations(names, 2):
            ra, rb = _matching(members, a, setting), _matching(members, b, setting)
            pairs = ra.merge(rb, on=["seed", "member"], suffixes=("", "_b"))
            if pairs.empty:
                continue
            for outcome in outcomes:
                if outcome not in pairs:
                    continue
                d = (pd.to_numeric(pairs[outcome], errors="coerce")
                     - pd.to_numeric(pairs[f"{outcome}_b"], errors="coerce")).dropna()
                median, low, high = ensemble.interval(d)
                rows.append({**setting, "strategy": a, "minus": b, "outcome": outcome,
                             "n": len(d), "median": median, "low": low, "high": high})
    return pd.DataFrame(rows)


def ensemble_report(summary: pd.DataFrame, diffs: pd.DataFrame, keys: list[str],
                    members: pd.DataFrame, outcomes: list[str]) -> str:
    """The ensemble's tables as text: per outcome, median [90 % interval] across members and
    seeds, a row per setting and a column per strategy, then the differences."""
    others = keys[1:]
    finished = members[members.status == ensemble.FINISHED]
    names = ", ".join(str(v) for v in finished.get("ensemble", pd.Series(["?"])).dropna().unique())
    lines = [f"Across the ensemble ({names}): {finished.member.nunique()} members, "
             f"{len(finished)} member runs ({len(members) - len(finished)} failed); grouped by "
             f"{', '.join(keys)}; median [{ensemble.LEVEL:.0%} interval] across members and "
             f"seeds, n = members x seeds."]
    lines += _outcome_tables(
        summary, diffs, others, outcomes,
        lambda p: [ensemble.cell(m, lo, hi) + f" n={n}"
                   for m, lo, hi, n in zip(p["median"], p.low, p.high, p.n)],
        lambda d: [ensemble.cell(m, lo, hi, signed=True)
                   for m, lo, hi in zip(d["median"], d.low, d.high)])
    return "\n".join(lines)


# --- command --------------------------------------------------------------------------------

def compare(folders: list[Path], out: Path | None = None,
            outcomes: list[str] | None = None) -> tuple[str, Path]:
    """Read the sweeps, write the tables and figures into ``out``; returns (report, out)."""
    folders = [Path(f) for f in folders]
    resolved = [f.resolve() for f in folders]
    if len(set(resolved)) < len(resolved):
        raise CompareError("The same sweep folder is given twice; its runs would count twice. "
                           "Give each sweep once.")
    ambiguous = len({f.name for f in folders}) < len(folders)
    # every folder is read and checked before anything is written
    sweeps = [read(f, str(f) if ambiguous else None) for f in folders]
    keys, notes = grouping(sweeps)
    table = pd.concat([s.runs for s in sweeps], ignore_index=True)
    repeated = table.duplicated(subset=[*keys, "seed"])
    if repeated.any():  # e.g. two sweeps that overlap: a seed is one replicate, not two
        notes.append(f"{int(repeated.sum())} run(s) repeat a seed already counted at the same "
                     f"settings (the sweeps overlap); each seed is counted once.")
        table = table[~repeated]
    table = table.sort_values(keys[1:], kind="stable") if len(keys) > 1 else table
    measured = [c for c in OUTCOMES if c in table]
    summary = summarise(table, keys, measured)  # the tables have every outcome
    diffs = differences(table, keys, measured)
    if table.strategy.nunique() < 2:
        notes.append("Only one strategy ran, so there are no differences between strategies.")
    panels = len(table[keys[2:]].drop_duplicates()) if len(keys) > 2 else 1
    if panels > MAX_PANELS:
        notes.append(f"The figures show the first {MAX_PANELS} of {panels} combinations of "
                     f"{', '.join(keys[2:])}; summary.csv has them all.")
    shown = outcomes or [o for o in HEADLINE if o in measured]  # printed and drawn
    text = report(summary, diffs, keys, notes, sweeps, shown)
    members = pd.concat([s.members for s in sweeps if len(s.members)], ignore_index=True) \
        if any(len(s.members) for s in sweeps) else pd.DataFrame()
    ensemble_files = {}
    if len(members):  # ensemble runs: the intervals across members and seeds lead
        carried = [k for k in keys if k != "strategy"]
        carried += ["ensemble"] if "ensemble" in table and "ensemble" not in carried else []
        members = members.merge(table[["sweep", "run", *carried]], on=["sweep", "run"],
                                suffixes=("_member", ""))  # runs counted once, grouped as above
        ens_summary = ensemble.summarise(members, measured, by=keys)
        ens_diffs = ensemble_differences(members, keys, measured)
        text = ensemble_report(ens_summary, ens_diffs, keys, members, shown) + \
            "\n\nAt the base parameter set of each ensemble run (its own run):\n" + text
        ensemble_files = {
            "ensemble_summary.csv": lambda tmp: ens_summary.to_csv(tmp, index=False),
            "ensemble_differences.csv": lambda tmp: ens_diffs.to_csv(tmp, index=False)}
    timeseries = pd.concat([s.timeseries for s in sweeps if len(s.timeseries)], ignore_index=True)
    if out is None:
        out = (sweeps[0].folder / "compare" if len(sweeps) == 1 else
               Path("results") / "compare" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S"))
    files = {"summary.csv": lambda tmp: summary.to_csv(tmp, index=False),
             "differences.csv": lambda tmp: diffs.to_csv(tmp, index=False),
             "report.txt": lambda tmp: Path(tmp).write_text(text + "\n"), **ensemble_files}
    figures = {f"{o}.png": functools.partial(outcome_figure, summary, o, keys) for o in shown}
    figures["followers_over_time.png"] = lambda: followers_figure(table, timeseries, keys)
    try:
        write_folder(out, {**files, **{name: _drawing(draw) for name, draw in figures.items()}})
    except OSError as e:
        raise CompareError(f"Cannot write to '{out}' ({e.strerror}). Give --out a folder you "
                           f"can write to.") from e
    return text, out


def _drawing(draw):
    return lambda tmp: save(draw(), Path(tmp), dpi=150)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sim.compare", description=__doc__.strip().splitlines()[0],
        epilog="Example: python -m sim.compare results/sweeps/2026-11-26_10-00-00_strategy-seed")
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep folders (results/sweeps/...)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the tables and figures (default: <sweep>/compare/, or "
                             "results/compare/<time>/ for several sweeps)")
    parser.add_argument("--outcomes", default=None, metavar="A,B,...",
                        help="outcomes to print and draw, comma-separated (default: "
                             + ",".join(HEADLINE) + "; the CSV files have all): "
                             + ", ".join(OUTCOMES))
    args = parser.parse_args(argv)
    if args.outcomes is not None:
        args.outcomes = [o.strip() for o in args.outcomes.split(",") if o.strip()]
        unknown = [o for o in args.outcomes if o not in OUTCOMES]
        if unknown or not args.outcomes:
            parser.error(f"--outcomes {','.join(unknown) or '(empty)'}: not an outcome. "
                         f"Allowed: {', '.join(OUTCOMES)}.")
    try:
        text, out = compare(args.sweeps, args.out, args.outcomes)
    except CompareError as e:
        sys.stderr.write(f"sim.compare: {e}\n")
        sys.exit(2)
    print(text)
    extra = ("ensemble_summary.csv, ensemble_differences.csv, "
             if (out / "ensemble_summary.csv").is_file() else "")
    print(f"\nwrote {out}/ (summary.csv, differences.csv, {extra}report.txt, figures)")


if __name__ == "__main__":
    main()
