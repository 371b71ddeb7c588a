"""Pattern-filtered ensembles: sample the ranged parameters, measure the patterns P1-P15 for
each sample, keep those that reproduce every pattern (Wiegand et al. 2004, Grimm et al. 2005)::

    python -m sim.calibrate --samples 256 --size 20000 --seeds 1
    python -m sim.calibrate --resume results/calibration/<time>

The parameters and their ranges are those of ``conf/uncertainty/<name>.yaml``
(:mod:`sim.config.uncertainty`). The design is a scrambled Sobol' sequence (or a Latin
hypercube) over the unit cube, mapped onto each range (evenly, or evenly on its logarithm),
drawn from ``--design-seed``: the same seed and sizes give the same design and the same
tables. Each sample's patterns are measured by :func:`sim.experiment.patterns.table`, the code
of ``python -m sim.patterns``, with the sample's parameters given as settings on the same
simulation seeds for every sample. A sample is accepted when every measured row lies within
its band. ``--early-reject`` stops at a sample's first row out of band: the same samples are
accepted at a fraction of the cost, and the rows after the miss stay empty (so the narrowing a
row shows is then among the samples that passed the rows measured before it). The scenarios
run in the order that rejects at least cost: days simulated over the share rejected among the
samples already in the folder (cheapest first in a new calibration). ``--workers N`` measures
N samples at once in processes of their own; ``--enough N`` stops once N are accepted. Before anything is written, the time the design takes is estimated (from a
short probe run, or from the samples finished so far when resuming) and a design that would
not fit in ``--time-limit`` is refused; ``--stop-after`` runs one in parts instead.

Every finished sample is written at once, whole, as ``samples/<number>.csv`` in the
calibration's folder, so a killed calibration keeps all of them; ``--resume FOLDER`` runs
only the samples that are missing (and, for a Sobol' design, ``--samples N`` larger than
before extends it: the first points of the sequence stay the same). A sample whose run fails
is a row with ``status=failed`` and its error. The folder also holds ``calibration.yaml``
(what was asked), ``design.csv``, and, rewritten every half minute: ``samples.csv`` and
``.parquet`` (every sample), ``ensemble.csv`` and ``.parquet`` (the accepted ones, a column
``member`` per sample number: ``python -m sim ensemble=FOLDER`` runs them), ``narrowing.csv``
and ``pattern_effects.csv`` (how much the patterns narrowed each parameter), ``seconds.csv``
(the time each sample took, kept apart so that the same design gives identical tables),
``report.txt``, and at the end ``corner.png``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from scipy.stats import qmc

from sim.config.uncertainty import Range, load
from sim.errors import SettingError, UserError
from sim.experiment import patterns
from sim.experiment.run import simulate
from sim.io.figures import save
from sim.io.files import require_parquet, write_csv, write_folder, write_whole
from sim.version import versions

METHODS = ("sobol", "lhs")
FINISHED, FAILED = "finished", "failed"
SAMPLES_DIR = "samples"
META = "calibration.yaml"
DESIGN = "design.csv"
SPAN = (0.05, 0.95)  # a parameter's span among samples: from its 5th to its 95th percentile

# Simulated days per seed of each scenario that python -m sim.patterns runs (one entry per
# run), by the rows it measures, as in patterns.MEASURES: what a sample costs.
# tests/test_calibrate.py checks that it names the same groups of rows as MEASURES.
SCENARIO_DAYS: dict[tuple[str, ...], tuple[int, ...]] = {
    ("P1",): (30,),
    ("P2", "P10", "P11a", "P11b", "P11c"): (51,),
    ("P3", "P4"): (51,),
    ("P5",): (30, 30),
    ("P6a", "P6b"): (20, 20),
    ("P7",): (51,) * patterns.RATE_ACCOUNTS,
    ("P8",): (3,) * 8,
    ("P9",): (10, 10),
    ("P12a", "P13a", "P13b"): (30,) * 5,
    ("P12b",): (30,),
    ("P14",): (30,),
    ("P15a", "P15b"): (30, 30),
}


@dataclass(frozen=True)
class Spec:
    """What a calibration is: recorded in ``calibration.yaml``; resuming reads it back."""

    ranges: list[dict]  # the ranges themselves (key, low, high, scale, why)
    ranges_name: str
    samples: int
    design_seed: int
    method: str
    size: int
    seeds: int
    engine: str
    only: list[str] = field(default_factory=list)  # pattern rows; empty: all of P1-P15
    given: list[str] = field(default_factory=list)  # settings for every scenario
    early_reject: bool = False  # cheapest scenarios first; stop at the first row out of band

    @property
    def rows(self) -> list[str]:
        return patterns.rows_for(self.only)

    def parameter_ranges(self) -> list[Range]:
        return [Range(**r) for r in self.ranges]

    def setup(self, progress: Callable[[str], None] | None = None,
              overrides: tuple[str, ...] = ()) -> patterns.Setup:
        return patterns.Setup(self.engine, (*self.given, *overrides), progress, cache={})


# --- the design -------------------------------------------------------------------------------

def unit_design(dimensions: int, samples: int, seed: int, method: str = "sobol") -> np.ndarray:
    """``samples`` points in the unit cube: the first points of a scrambled Sobol' sequence
    (so that more samples extend fewer), or a Latin hypercube (optimised for its samples)."""
    rng = np.random.default_rng(seed)
    if method == "sobol":
        sampler = _sampler(qmc.Sobol, dimensions, rng, scramble=True)
        with warnings.catch_warnings():  # balance is best at powers of 2; any count is allowed
            warnings.simplefilter("ignore", UserWarning)
            return sampler.random(samples)
    if method == "lhs":
        return _sampler(qmc.LatinHypercube, dimensions, rng).random(samples)
    raise SettingError(f"--method {method!r} is not a design. Allowed: {', '.join(METHODS)}.")


def _sampler(cls, dimensions: int, rng: np.random.Generator, **kwargs):
    try:
        return cls(dimensions, rng=rng, **kwargs)
    except TypeError:  # SciPy before 1.15 calls it seed
        return cls(dimensions, seed=rng, **kwargs)


def to_unit(r: Range, values) -> np.ndarray:
    """Where ``values`` lie on the range, in [0, 1] (the inverse of ``Range.from_unit``)."""
    values = np.asarray(values, float)
    if r.scale == "log":
        return (np.log(values) - np.log(r.low)) / (np.log(r.high) - np.log(r.low))
    return (values - r.low) / (r.high - r.low)


def design(spec: Spec) -> pd.DataFrame:
    """One row per sample: its number and each parameter's value."""
    ranges = spec.parameter_ranges()
    unit = unit_design(len(ranges), spec.samples, spec.design_seed, spec.method)
    table = pd.DataFrame({r.key: r.from_unit(unit[:, j]) for j, r in enumerate(ranges)})
    table.insert(0, "sample", np.arange(spec.samples))
    return table


def overrides_of(sample: dict, ranges: list[Range]) -> tuple[str, ...]:
    return tuple(r.override(sample[r.key]) for r in ranges)


# --- measuring one sample --------------------------------------------------------------------

def measure(sample: dict, spec: Spec, progress: Callable[[str], None] | None = None,
            stages: list[list[str]] | None = None) -> dict:
    """One sample's row: its number, status (and error), time taken, parameters, and each
    pattern row's statistic (``P7``) and whether it lies within its band (``P7_within``).

    With ``spec.early_reject`` the scenarios run in the order ``stages`` gives (by default
    cheapest first) and stop at the first row out of its band: the sample is rejected all the
    same, and the rows not measured are left empty (NaN)."""
    ranges = spec.parameter_ranges()
    row: dict = {"sample": int(sample["sample"]), "status": FINISHED, "error": "",
                 "seconds": 0.0, **{r.key: float(sample[r.key]) for r in ranges}}
    for key in spec.rows:
        row |= {key: np.nan, f"{key}_within": np.nan}
    started = time.perf_counter()
    setup = spec.setup(progress, overrides_of(sample, ranges))  # one cache for every stage
    if not spec.early_reject:
        stages = [spec.rows]
    elif stages is None:
        stages = cheapest_first(spec.rows)
    try:
        for stage in stages:
            result = patterns.table(spec.size, range(spec.seeds), setup, only=stage)
            for r in result.itertuples():
                row |= {r.pattern: float(r.model), f"{r.pattern}_within": bool(r.within)}
            if not result.within.all():
                break
    except Exception as e:  # noqa: BLE001 - a failed sample is a row; the others go on
        row.update(status=FAILED, error=f"{type(e).__name__}: {' '.join(str(e).split())}")
        for key in spec.rows:
            row |= {key: np.nan, f"{key}_within": False}
    row["seconds"] = round(time.perf_counter() - started, 2)
    return row


def cheapest_first(rows: list[str]) -> list[list[str]]:
    """The rows in groups that one scenario measures, the group that simulates fewest days
    first (so that early rejection spends little on a sample that misses a cheap band)."""
    groups = sorted(SCENARIO_DAYS.items(), key=lambda item: sum(item[1]))
    return [[k for k in rows if k in keys] for keys, _ in groups if set(keys) & set(rows)]


def cheapest_rejection_first(rows: list[str], done: pd.DataFrame) -> list[list[str]]:
    """The scenario groups in the order that rejects a sample at the least expected cost: by
    days simulated per rejection, the days a group costs over the share of samples measured
    on it that it rejected so far (with one pass and one miss added, so an unmeasured group
    counts as rejecting half). With no samples done this is :func:`cheapest_first`.

    The order changes only what a rejected sample costs and which of its rows stay empty;
    whether a sample is accepted does not depend on it."""
    def days_per_rejection(group: list[str]) -> float:
        measured = missed = 0
        if len(done) and all(f"{k}_within" in done for k in group):
            within = pd.concat([inside(done, k) for k in group], axis=1)
            seen = done[[f"{k}_within" for k in group]].notna().all(axis=1)
            seen &= done["status"] == FINISHED
            measured, missed = int(seen.sum()), int((seen & ~within.all(axis=1)).sum())
        days = sum(d for keys, ds in SCENARIO_DAYS.items() if set(keys) & set(group) for d in ds)
        return days * (measured + 2) / (missed + 1)
    return sorted(cheapest_first(rows), key=days_per_rejection)


def inside(samples: pd.DataFrame, key: str) -> pd.Series:
    """Whether each sample's row ``key`` was measured and lies within its band."""
    return samples[f"{key}_within"].map(lambda v: v is True or v == 1 or v == "True")


def accepted(samples: pd.DataFrame, rows: list[str]) -> pd.Series:
    """The samples that finished with every row measured and within its band."""
    ok = samples["status"] == FINISHED
    for key in rows:
        ok &= inside(samples, key)
    return ok.astype(bool)


# --- the folder ------------------------------------------------------------------------------

def sample_file(folder: Path, number: int) -> Path:
    return Path(folder) / SAMPLES_DIR / f"{number:06d}.csv"


def finished_samples(folder: Path) -> pd.DataFrame:
    """Every sample written so far (finished or failed), in sample order."""
    files = sorted((Path(folder) / SAMPLES_DIR).glob("[0-9]*.csv"))
    if not files:
        return pd.DataFrame()
    table = pd.concat([pd.read_csv(f, dtype={"status": str, "error": str}) for f in files],
                      ignore_index=True)
    table["error"] = table["error"].fillna("")
    return table.sort_values("sample", kind="stable").reset_index(drop=True)


def read_spec(folder: Path) -> Spec:
    path = Path(folder) / META
    if not path.is_file():
        raise SettingError(f"'{folder}' is not a calibration's folder: it has no {META}. Give "
                           f"the folder python -m sim.calibrate made, e.g. "
                           f"results/calibration/<time>.")
    raw = yaml.safe_load(path.read_text()) or {}
    try:
        return Spec(**{k: raw[k] for k in Spec.__dataclass_fields__ if k in raw})
    except TypeError as e:
        raise SettingError(f"{path} cannot be read as a calibration ({e}); it was not written "
                           f"by this version of python -m sim.calibrate.") from None


def write_spec(folder: Path, spec: Spec) -> None:
    text = yaml.safe_dump({**asdict(spec), "sim": versions()["sim"]}, sort_keys=False,
                          width=100)
    write_whole(Path(folder) / META, lambda tmp: Path(tmp).write_text(text))


def new_folder(parent: Path = Path("results/calibration")) -> Path:
    """``results/calibration/<time>`` (``_2``, ... if taken), not yet made."""
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    for n in range(1, 10_000):
        folder = Path(parent) / (stamp if n == 1 else f"{stamp}_{n}")
        if not folder.exists():
            return folder
    raise SettingError(f"Cannot find a free calibration folder under {parent}.")


# --- the cost --------------------------------------------------------------------------------

def scenario_days(rows: list[str]) -> list[int]:
    """Days per seed of every run that measuring ``rows`` takes."""
    return [d for keys, days in SCENARIO_DAYS.items() if set(keys) & set(rows) for d in days]


def probe_seconds_per_day(spec: Spec, days: int = 4) -> float:
    """Seconds a simulated day takes at the calibration's size, engine and settings: a short
    run (after one of a day, which compiles what the array engine needs), timed."""
    from sim.config.compose import settings  # noqa: PLC0415 - only the estimate needs it
    base = (*spec.given, f"engine={spec.engine}", f"audience.size={spec.size}",
            "strategy=broadcast")
    simulate(settings(*base, "days=1"), other_strategies="ignore")
    started = time.perf_counter()
    simulate(settings(*base, f"days={days}"), other_strategies="ignore")
    return (time.perf_counter() - started) / days


def estimate(spec: Spec, done: pd.DataFrame | None = None,
             per_day: Callable[[Spec], float] = probe_seconds_per_day) -> tuple[float, str]:
    """(seconds per sample, how it was found): the mean of the samples finished so far, or
    a probe run's seconds per day times the days the measured rows simulate."""
    if done is not None and len(done) and (done.status == FINISHED).any():
        seconds = float(done.seconds[done.status == FINISHED].mean())
        return seconds, f"the mean of the {int((done.status == FINISHED).sum())} samples " \
                        f"finished so far"
    days = sum(scenario_days(spec.rows)) * spec.seeds
    seconds = per_day(spec) * days * 1.1  # and a tenth for composing settings, ties, tables
    return seconds, (f"a probe run: {days} simulated days of {spec.size:,} followers per "
                     f"sample" + (", an upper bound with --early-reject" if spec.early_reject
                                  else ""))


def duration(text: str) -> float:
    """Seconds in ``90s``, ``40m``, ``2h``, ``1.5h`` or a bare number of seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text))
    if not m:
        raise SettingError(f"'{text}' is not a duration. Give a number with s, m, h or d, e.g. "
                           f"40m or 2h.")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def say_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --- what the patterns did to each parameter ----------------------------------------------------

def span(r: Range, values) -> float:
    """The 5-95 % span of ``values`` as a share of the range (on its scale): about 0.9 for
    samples spread evenly over it, less where the patterns ruled part of it out."""
    u = to_unit(r, pd.to_numeric(pd.Series(values), errors="coerce").dropna())
    if len(u) < 2:
        return np.nan
    low, high = np.quantile(u, SPAN)
    return float(high - low)


def narrowing(samples: pd.DataFrame, ranges: list[Range], rows: list[str]) -> pd.DataFrame:
    """Per parameter: its range, the span of all finished samples, of the accepted ones, and
    of the samples within each pattern row's band alone (``span_P7``); ``narrowed_by``: the
    rows whose band alone narrows it most."""
    finished = samples[samples.status == FINISHED] if len(samples) else samples
    ok = accepted(finished, rows) if len(finished) else pd.Series(dtype=bool)
    out = []
    for r in ranges:
        row = {"parameter": r.key, "low": r.low, "high": r.high, "scale": r.scale,
               "span_all": span(r, finished[r.key]) if len(finished) else np.nan,
               "span_accepted": span(r, finished[r.key][ok]) if len(finished) else np.nan}
        if len(finished):
            row["median_accepted"] = (float(finished[r.key][ok].median()) if ok.any()
                                      else np.nan)
        for key in rows:
            row[f"span_{key}"] = (span(r, finished[r.key][inside(finished, key)])
                                  if len(finished) else np.nan)
        spans = {key: row[f"span_{key}"] for key in rows if not np.isnan(row[f"span_{key}"])}
        least = sorted(spans, key=lambda k: spans[k])[:3]
        row["narrowed_by"] = " ".join(f"{k}:{spans[k]:.2f}" for k in least
                                      if spans[k] < 0.8 * row["span_all"])
        out.append(row)
    return pd.DataFrame(out)


def pattern_effects(narrow: pd.DataFrame, rows: list[str], top: int = 3) -> pd.DataFrame:
    """Per pattern row: the parameters its band alone narrows most (smallest span among the
    samples within it, against the span of all samples)."""
    out = []
    for key in rows:
        if narrow.empty or f"span_{key}" not in narrow:
            continue
        ratio = pd.Series((narrow[f"span_{key}"] / narrow.span_all).to_numpy(),
                          index=narrow.parameter.to_numpy()).dropna().sort_values()
        out.append({"pattern": key, "narrows_most": "; ".join(
            f"{p} ({v:.2f})" for p, v in ratio.head(top).items() if v < 0.8) or "nothing"})
    return pd.DataFrame(out)


# --- tables, report, figure ------------------------------------------------------------------

def tables(folder: Path, spec: Spec) -> dict[str, pd.DataFrame]:
    """Every table of the folder, from the samples written so far."""
    samples = finished_samples(folder)
    rows, ranges = spec.rows, spec.parameter_ranges()
    # the time each sample took goes apart: the same design gives the same tables
    seconds = samples[["sample", "status", "seconds"]] if len(samples) else \
        pd.DataFrame(columns=["sample", "status", "seconds"])
    samples = samples.drop(columns="seconds", errors="ignore")
    if len(samples):
        samples["accepted"] = accepted(samples, rows)
    keys = [r.key for r in ranges]
    members = (samples[samples.accepted] if len(samples) else
               pd.DataFrame(columns=["sample", *keys, *rows]))
    ensemble = members[["sample", *keys, *rows]].rename(columns={"sample": "member"})
    narrow = narrowing(samples, ranges, rows)
    return {"samples": samples, "ensemble": ensemble.reset_index(drop=True),
            "narrowing": narrow, "effects": pattern_effects(narrow, rows), "seconds": seconds}


def report(found: dict[str, pd.DataFrame], spec: Spec, folder: Path) -> str:
    samples, ensemble, narrow = found["samples"], found["ensemble"], found["narrowing"]
    done = len(samples)
    finished = int((samples.status == FINISHED).sum()) if done else 0
    lines = [f"Calibration {folder}: {done} of {spec.samples} samples done ({finished} "
             f"finished, {done - finished} failed); {len(ensemble)} accepted"
             + (f" ({len(ensemble) / finished:.1%} of those finished)" if finished else "")
             + ".",
             f"Design: {spec.method}, design seed {spec.design_seed}, {len(spec.ranges)} "
             f"parameters ({spec.ranges_name}). Patterns: {', '.join(spec.rows)}, measured on "
             f"{spec.size:,} followers, engine={spec.engine}, seeds 0-{spec.seeds - 1}"
             + (f", settings {' '.join(spec.given)}" if spec.given else "") + "."]
    if finished:
        times = found["seconds"]
        seconds = times.seconds[times.status == FINISHED]
        lines.append(f"Time per sample: mean {seconds.mean():.1f} s, median "
                     f"{seconds.median():.1f} s (from {seconds.min():.1f} to "
                     f"{seconds.max():.1f} s).")
        done_ok = samples[samples.status == FINISHED]
        within = {k: (int(inside(done_ok, k).sum()), int(done_ok[k].notna().sum()))
                  for k in spec.rows}
        lines.append("Samples within each band, of those measured on it: " + ", ".join(
            f"{k} {n}/{m}" for k, (n, m) in within.items()) + "."
            + (" (Early rejection: a sample is measured until its first row out of band.)"
               if spec.early_reject else ""))
    if len(narrow) and finished:
        lines += ["", "Span of each parameter (5-95 %, share of its range; about 0.9 for an "
                      "even spread): all samples, accepted ones; the rows that narrow it most:"]
        width = max(len(k) for k in narrow.parameter)
        for r in narrow.itertuples():
            lines.append(f"  {r.parameter:<{width}}  {r.span_all:.2f}  "
                         f"{r.span_accepted:.2f}  {r.narrowed_by}")
    if len(found["effects"]):
        lines += ["", "What each pattern's band narrows most (span within it / span of all):"]
        lines += [f"  {r.pattern:<5} {r.narrows_most}" for r in found["effects"].itertuples()]
    return "\n".join(lines)


def write_tables(folder: Path, spec: Spec, figure: bool = False) -> dict[str, pd.DataFrame]:
    """Rewrite the folder's tables (whole) from the samples written so far."""
    found = tables(folder, spec)
    text = report(found, spec, folder)
    files = {
        "samples.csv": lambda tmp: found["samples"].to_csv(tmp, index=False),
        "samples.parquet": lambda tmp: found["samples"].to_parquet(tmp, index=False),
        "ensemble.csv": lambda tmp: found["ensemble"].to_csv(tmp, index=False),
        "ensemble.parquet": lambda tmp: found["ensemble"].to_parquet(tmp, index=False),
        "narrowing.csv": lambda tmp: found["narrowing"].to_csv(tmp, index=False),
        "pattern_effects.csv": lambda tmp: found["effects"].to_csv(tmp, index=False),
        "seconds.csv": lambda tmp: found["seconds"].to_csv(tmp, index=False),
        "report.txt": lambda tmp: Path(tmp).write_text(text + "\n"),
    }
    if figure and len(found["samples"]):
        files["corner.png"] = lambda tmp: save(corner(found["samples"], spec), Path(tmp), dpi=90)
    write_folder(folder, files)
    found["report"] = text
    return found


def corner(samples: pd.DataFrame, spec: Spec) -> Figure:
    """Every pair of parameters, each on its range (log ranges on a log scale): all finished
    samples in grey, the accepted ones in blue; on the diagonal each parameter's histogram
    (grey: all, blue: accepted, scaled to the same height). Drawn on one set of axes, a cell
    per pair, so that 26 parameters draw in a second."""
    ranges = spec.parameter_ranges()
    finished = samples[samples.status == FINISHED]
    ok = accepted(finished, spec.rows).to_numpy()
    units = {r.key: np.clip(to_unit(r, finished[r.key]), 0, 1) for r in ranges}
    n = len(ranges)
    fig = Figure(figsize=(0.9 * n + 2, 0.9 * n + 2), layout="constrained")
    ax = fig.subplots()
    pad, bins = 0.06, np.linspace(0, 1, 11)
    inner = 1 - 2 * pad
    points: dict[bool, tuple[list, list]] = {False: ([], []), True: ([], [])}
    cells = []
    for i, ri in enumerate(ranges):
        for j, rj in enumerate(ranges[: i + 1]):
            x0, y0 = j + pad, n - 1 - i + pad
            cells.append(Rectangle((x0 - pad / 2, y0 - pad / 2), inner + pad, inner + pad))
            if i == j:
                for values, colour in ((units[ri.key], "lightgrey"),
                                       (units[ri.key][ok], "tab:blue")):
                    counts, _ = np.histogram(values, bins)
                    if counts.max() > 0:
                        ax.stairs(y0 + inner * counts / counts.max(), x0 + inner * bins,
                                  baseline=y0, fill=True, color=colour)
                continue
            for kept in (False, True):  # every cell's points go into one scatter per colour
                points[kept][0].append(x0 + inner * units[rj.key][ok == kept])
                points[kept][1].append(y0 + inner * units[ri.key][ok == kept])
    ax.add_collection(PatchCollection(cells, facecolor="none", edgecolor="grey", lw=0.4))
    for kept, (size, colour) in ((False, (2, "lightgrey")), (True, (5, "tab:blue"))):
        if points[kept][0]:
            ax.scatter(np.concatenate(points[kept][0]), np.concatenate(points[kept][1]),
                       s=size, color=colour, lw=0, rasterized=True)
    for k, r in enumerate(ranges):
        ax.text(k + 0.5, -0.15, _short(r), ha="right", va="top", rotation=60, fontsize=7)
        ax.text(-0.15, n - 1 - k + 0.5, _short(r), ha="right", va="center", fontsize=7)
    ax.set_xlim(-0.1, n + 0.1)
    ax.set_ylim(-0.1, n + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"Accepted parameter sets (blue, {int(ok.sum())}) among {len(finished)} "
                 f"samples (grey), rows {', '.join(spec.rows)}.\nEach cell spans the two "
                 f"ranges ({spec.ranges_name}), log ranges on a log scale; the diagonal: "
                 f"histograms", fontsize=10)
    return fig


def _short(r: Range) -> str:
    return (f"{r.key.rpartition('.')[2]} {r.low:g}-{r.high:g}"
            + (" (log)" if r.scale == "log" else ""))


# --- running ---------------------------------------------------------------------------------

TABLES_EVERY = 30.0  # seconds between rewrites of the tables while samples run


def calibrate(folder: Path, spec: Spec, stop_after: float | None = None,
              progress: Callable[[str], None] | None = None,
              on_sample: Callable[[dict], None] | None = None,
              measure_one: Callable[..., dict] = measure,
              figure: bool = True, workers: int = 1,
              enough: int | None = None) -> dict[str, pd.DataFrame]:
    """Run every sample of ``spec``'s design that ``folder`` lacks, in design order, writing
    each as it finishes (the tables too, every half minute), then the tables and the corner
    plot. ``stop_after`` seconds: stop (resumably) after the samples under way when it passes.
    ``enough``: stop once the folder holds that many accepted samples. ``workers``: measure
    that many samples at once, each in a process of its own (started once).
    ``on_sample(row)`` is told of each finished sample."""
    folder = Path(folder)
    (folder / SAMPLES_DIR).mkdir(parents=True, exist_ok=True)
    write_spec(folder, spec)
    table = design(spec)
    write_csv(table, folder / DESIGN)
    done_before = finished_samples(folder)
    done = set(done_before.get("sample", pd.Series(dtype=int)).astype(int))
    todo = [s for s in table.to_dict("records") if int(s["sample"]) not in done]
    stages = cheapest_rejection_first(spec.rows, done_before) if spec.early_reject else None
    accepted_before = int(accepted(done_before, spec.rows).sum()) if len(done_before) else 0
    started = written = time.perf_counter()
    count = {"finished": 0, "accepted": 0}

    def stopping() -> str | None:
        if enough is not None and accepted_before + count["accepted"] >= enough:
            return f"{accepted_before + count['accepted']} samples accepted (--enough {enough})"
        if stop_after is not None and time.perf_counter() - started >= stop_after:
            return f"stopping after {say_duration(stop_after)}"
        return None

    def finished(sample: dict, row: dict) -> None:
        nonlocal written
        write_csv(pd.DataFrame([row]), sample_file(folder, int(sample["sample"])))
        ok = bool(accepted(pd.DataFrame([row]), spec.rows).iloc[0])
        count["finished"] += 1
        count["accepted"] += ok
        if progress:
            missed = [k for k in spec.rows if row.get(f"{k}_within") is False]
            progress(f"sample {int(sample['sample'])} ({count['finished']} of {len(todo)} to "
                     f"do): " + ("failed: " + row["error"] if row["status"] == FAILED else
                                 "accepted" if ok else "outside " + ", ".join(missed))
                     + f" ({row['seconds']:.1f} s; {count['accepted']} accepted this session)")
        if time.perf_counter() - written >= TABLES_EVERY:
            write_tables(folder, spec)
            written = time.perf_counter()
        if on_sample is not None:
            on_sample(row)

    if workers <= 1:
        for sample in todo:
            if stopping():
                break
            finished(sample, measure_one(sample, spec, stages=stages))
    else:
        _in_processes(todo, spec, stages, workers, measure_one, finished, stopping)
    why = stopping()
    left = len(todo) - count["finished"]
    if progress and left and why:
        progress(f"{why}: {left} samples left; continue with --resume {folder}")
    return write_tables(folder, spec, figure=figure)


def _in_processes(todo: list[dict], spec: Spec, stages, workers: int, measure_one,
                  finished: Callable[[dict, dict], None],
                  stopping: Callable[[], str | None]) -> None:
    """Measure ``todo`` in ``workers`` processes, at most one sample each under way, handing
    out samples in design order until ``stopping()`` says so; every sample is written by
    this process as it comes back."""
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait  # noqa: PLC0415

    queue = iter(todo)
    # spawn, not fork: the compiled engine's threads do not survive a fork
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        running: dict = {}

        def hand_out() -> None:
            while len(running) < workers and not stopping():
                sample = next(queue, None)
                if sample is None:
                    return
                running[pool.submit(measure_one, sample, spec, stages=stages)] = sample
        hand_out()
        while running:
            ready, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(ready, key=lambda f: int(running[f]["sample"])):
                finished(running.pop(future), future.result())
            hand_out()


# --- the command -----------------------------------------------------------------------------

def given_settings(args: list[str], engine: str, size: int, keys: list[str]) -> list[str]:
    """Settings for every scenario, checked as python -m sim.patterns checks them; a ranged
    parameter cannot be given (the design sets it)."""
    for arg in args:
        key = arg.partition("=")[0].lstrip("+~")
        if key in keys:
            raise SettingError(f"Setting '{key}' is one of the ranged parameters, which the "
                               f"design sets for each sample. Leave it out, or give ranges "
                               f"without it (--ranges FILE).")
        if key == "ensemble":
            raise SettingError("Setting 'ensemble' cannot be given to python -m sim.calibrate: "
                               "it makes an ensemble, from the ranges (--ranges).")
    return list(patterns.given_settings(args, engine, size))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m sim.calibrate",
        description="Pattern-filtered ensembles: sample the ranged parameters (conf/uncertainty/), "
                    "measure the patterns P1-P15 for each sample as python -m sim.patterns does, "
                    "and keep the samples within every band.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Example: python -m sim.calibrate --samples 512 --size 20000 --seeds 1 "
               "--stop-after 2h, then python -m sim.calibrate --resume "
               "results/calibration/<time> to go on. Exit status 0 when done (or stopped by "
               "--stop-after), 2 for a bad setting or a design too large for --time-limit.")
    p.add_argument("--samples", type=int, default=None,
                   help="parameter sets in the design (default 256); with --resume, more than "
                        "before extends a Sobol' design")
    p.add_argument("--ranges", default=None,
                   help="parameter ranges: conf/uncertainty/NAME.yaml or a YAML file (default: "
                        "default)")
    p.add_argument("--method", choices=METHODS, default=None, help="design (default sobol)")
    p.add_argument("--design-seed", type=int, default=None, help="the design's seed (default 0)")
    p.add_argument("--size", type=int, default=None, help="followers per run (default 20000)")
    p.add_argument("--seeds", type=int, default=None,
                   help="simulation seeds 0 to K-1 per scenario (default 1)")
    p.add_argument("--engine", choices=("agents", "vector"), default=None,
                   help="engine (default vector; the tables do not depend on threads=, and on "
                        "a busy machine threads=1 is often fastest)")
    p.add_argument("--only", default=None,
                   help="pattern rows to measure and filter on, e.g. P2,P7 (default: all)")
    p.add_argument("--early-reject", action="store_true", default=None,
                   help="measure the cheapest patterns first and stop at a sample's first row "
                        "out of band (the same samples are accepted, at a fraction of the cost; "
                        "the rows after it are left empty)")
    p.add_argument("--out", type=Path, default=None,
                   help="the calibration's folder (default results/calibration/<time>)")
    p.add_argument("--resume", type=Path, default=None, metavar="FOLDER",
                   help="go on with the calibration in FOLDER: run only its missing samples")
    p.add_argument("--time-limit", default="24h",
                   help="refuse a design whose samples left would take longer (default 24h)")
    p.add_argument("--stop-after", default=None,
                   help="stop after this long (e.g. 40m), resumable; the design may be larger")
    p.add_argument("--enough", type=int, default=None, metavar="N",
                   help="stop once N samples are accepted (resumable; the design may be "
                        "larger)")
    p.add_argument("--workers", type=int, default=1,
                   help="samples measured at once, each in a process of its own (default 1; "
                        "give threads=1 with more than one)")
    p.add_argument("settings", nargs="*", metavar="key=value",
                   help="settings for every run (not the ranged parameters)")
    args = p.parse_args(argv)
    started = time.perf_counter()

    def progress(line: str) -> None:
        print(f"[{time.perf_counter() - started:8.1f} s] {line}", file=sys.stderr, flush=True)
    try:
        folder, spec = prepare(args)
        limit = duration(args.time_limit)
        stop = duration(args.stop_after) if args.stop_after is not None else None
        done = finished_samples(folder) if folder.is_dir() else pd.DataFrame()
        left = spec.samples - len(done)
        if args.workers < 1:
            raise SettingError(f"--workers = {args.workers} is not allowed; it must be at "
                               f"least 1.")
        if args.enough is not None and args.enough < 1:
            raise SettingError(f"--enough = {args.enough} is not allowed; it must be at "
                               f"least 1.")
        per_sample, how = estimate(spec, done)
        total = per_sample * max(left, 0) / args.workers
        if stop is None and args.enough is None and total > limit:
            raise SettingError(
                f"The design is too large for the time at hand: {left} samples left at about "
                f"{per_sample:.0f} s each (from {how}) would take about {say_duration(total)}, "
                f"more than --time-limit {args.time_limit}. Give fewer --samples, a smaller "
                f"--size or fewer --seeds, a longer --time-limit, or --stop-after to run it in "
                f"parts (python -m sim.calibrate --resume FOLDER goes on).")
    except UserError as e:
        sys.stderr.write(f"sim.calibrate: {' '.join(str(e).split())}\n")
        sys.exit(2)
    progress(f"{folder}: {left} of {spec.samples} samples to run, about {per_sample:.0f} s each "
             f"(from {how}), about {say_duration(total)} in all"
             + (f" on {args.workers} workers" if args.workers > 1 else "")
             + (f"; stopping after {say_duration(stop)}" if stop is not None else "")
             + (f"; stopping at {args.enough} accepted" if args.enough is not None else ""))
    found = calibrate(folder, spec, stop, progress, workers=args.workers, enough=args.enough)
    print(found["report"])
    print(f"\nwrote {folder}/ (ensemble.parquet, ensemble.csv, samples.csv, narrowing.csv, "
          f"pattern_effects.csv, seconds.csv, corner.png, report.txt)")
    if len(found["samples"]) < spec.samples:
        print(f"{spec.samples - len(found['samples'])} samples left: python -m sim.calibrate "
              f"--resume {folder}")


def prepare(args) -> tuple[Path, Spec]:
    """The folder and what to run in it, checked before anything is written."""
    for name in ("samples", "size", "seeds"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise SettingError(f"--{name} = {value} is not allowed; it must be at least 1.")
    if args.design_seed is not None and args.design_seed < 0:
        raise SettingError(f"--design-seed = {args.design_seed} is not allowed; it must be 0 "
                           f"or more.")
    require_parquet("python -m sim.calibrate")
    if args.resume is not None:
        return args.resume, resumed(args)
    ranges_name = args.ranges or "default"
    ranges = load(ranges_name)
    size = args.size or 20_000
    engine = args.engine or "vector"
    only = [x.strip() for x in (args.only or "").split(",") if x.strip()]
    patterns.rows_for(only)
    given = given_settings(list(args.settings), engine, size, [r.key for r in ranges])
    folder = args.out or new_folder()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise SettingError(f"'{folder}' already holds files. A calibration starts in a new "
                           f"folder; to go on with one, give --resume {folder}.")
    spec = Spec([asdict(r) for r in ranges], str(ranges_name), args.samples or 256,
                args.design_seed if args.design_seed is not None else 0,
                args.method or "sobol", size, args.seeds or 1, engine, only, given,
                bool(args.early_reject))
    return folder, spec


def resumed(args) -> Spec:
    """The calibration in ``args.resume``, possibly extended to more samples."""
    folder = args.resume
    if not folder.is_dir():
        raise SettingError(f"--resume '{folder}' is not a folder. Give the folder of a "
                           f"calibration, e.g. results/calibration/<time>.")
    spec = read_spec(folder)
    fixed = {"ranges": args.ranges, "method": args.method, "design_seed": args.design_seed,
             "size": args.size, "seeds": args.seeds, "engine": args.engine, "only": args.only,
             "out": args.out, "early_reject": args.early_reject}
    given = [f"--{k.replace('_', '-')}" for k, v in fixed.items() if v is not None]
    if given or args.settings:
        raise SettingError(f"--resume goes on with the calibration as it was started (see "
                           f"{folder / META}); {', '.join(given + list(args.settings))} cannot "
                           f"be changed. Only --samples (more, for a Sobol' design), "
                           f"--time-limit, --stop-after, --enough and --workers may be given.")
    if args.samples is not None and args.samples != spec.samples:
        if args.samples < spec.samples:
            raise SettingError(f"--samples {args.samples} is fewer than the calibration's "
                               f"{spec.samples}; a design can be extended, not cut.")
        if spec.method != "sobol":
            raise SettingError(f"--samples {args.samples}: a {spec.method} design cannot be "
                               f"extended (its points depend on how many there are); only a "
                               f"Sobol' design can. Start a new calibration instead.")
        spec = Spec(**{**asdict(spec), "samples": args.samples})
    on_disk = folder / DESIGN
    if on_disk.is_file():  # the design is reproduced from the seed; it must be the same
        old = pd.read_csv(on_disk)
        new = design(spec).head(len(old))
        if old.shape != new.shape or not np.allclose(old.to_numpy(float), new.to_numpy(float),
                                                     rtol=1e-12, atol=0):
            raise SettingError(f"The design of {folder} cannot be reproduced here (another "
                               f"SciPy draws other points); its samples would not match. "
                               f"Start a new calibration.")
    return spec


if __name__ == "__main__":
    main()
