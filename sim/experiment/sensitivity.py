"""Global sensitivity of the essay's claim: which unpinned parameters decide whether steady
beats burst.

Every sample of the parameters that no pattern pins (their ranges: ``conf/uncertainty/``,
:mod:`sim.config.uncertainty`) is run twice, as ``steady`` and as ``burst``, with the same
budget on the same audiences and seeds; its outcomes are the paired differences, steady minus
burst, in followers kept (in % of the audience at the start) and in actions won on asks, and
any other outcome column named. First Morris screening (elementary effects) over every ranged
parameter, then Sobol' indices (first and total order, with bootstrap intervals) over those
that moved an outcome; scenario discovery over the same runs is :mod:`sim.experiment.discovery`.

Samples are drawn on the unit cube and mapped onto each range (evenly, or on its logarithm),
so Morris effects are in the outcome's units per whole range. The runs go one after another
in this process (the array engine spreads each over the cores; no process starts per sample)
or through a Hydra launcher (``sim.apps.sensitivity``). SALib is imported only when a design
is drawn or analysed, so ``import sim`` stays light. The command line is
``python -m sim.sensitivity`` (:mod:`sim.apps.sensitivity`).
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from sim.config.checks import check, share_strategy_settings
from sim.config.compose import settings
from sim.config.memory import HEADROOM, available_bytes, needed_bytes
from sim.config.uncertainty import Range
from sim.errors import SettingError
from sim.experiment import discovery
from sim.experiment.run import simulate
from sim.io.figures import save
from sim.io.files import write_csv, write_whole
from sim.model.state import chosen_engine
from sim.version import versions

STRATEGIES = ("steady", "burst")
HEADLINE = {  # outcome column: what it is
    "d_followers_pct": "followers kept, steady - burst (% of the audience at the start)",
    "d_actions": "actions won on asks, steady - burst",
}
KEPT = ("followers_end", "net_change_pct", "actions", "unfollows")  # each side's own, per run
NOT_OUTCOMES = {"strategy", "audience", "engine", "seed", "days", "audience_size",
                "posts_per_day", "asks_budget", "reply_share", "version", "followers_start"}
SET_BY_THE_STUDY = {  # settings the study sets itself, and how the user sets them instead
    "audience.size": "give --size", "days": "give --days",
    "seed": "give --seed (the first seed) and --seeds (how many)",
    "engine": "give --engine", "strategy": "the study runs steady and burst itself",
    "strategy._target_": "the study runs steady and burst itself",
}
LEVELS = 4  # Morris grid levels (SALib's default)
RESAMPLES = 1000  # bootstrap resamples for the intervals
CONFIDENCE = 0.95
UNIT = "u:"  # prefix of the design's unit-cube columns
FINISHED, FAILED = "finished", "failed"
SAFETY = 1.25  # the time estimate's margin: samples differ in how long they take
SAVE_EVERY = 60.0  # seconds between writes of the runs done so far
LABELLED = 8  # parameters named in the mu*-sigma plot, the largest mu* first
DESCRIBED = 6  # parameters described in words, per outcome


def _salib():
    """SALib's samplers and analysers, imported when first needed (an optional extra)."""
    try:
        from SALib.analyze import morris as morris_analyze  # noqa: PLC0415
        from SALib.analyze import sobol as sobol_analyze  # noqa: PLC0415
        from SALib.sample import morris as morris_sample  # noqa: PLC0415
        from SALib.sample import sobol as sobol_sample  # noqa: PLC0415
    except ImportError:
        raise SettingError("Sensitivity analysis needs SALib, which is not installed: "
                           "pip install 'sim[uncertainty]' (SALib, ema_workbench, pyarrow).") \
            from None
    return morris_sample, morris_analyze, sobol_sample, sobol_analyze


# --- what is studied ------------------------------------------------------------------------

@dataclass(frozen=True)
class Study:
    """The ranged parameters and how every sample runs: audience size, days, seeds, engine,
    the settings given for every run, and the extra outcome columns analysed."""

    ranges: tuple[Range, ...]
    size: int = 20_000
    days: int = 30
    seeds: int = 1
    seed: int = 0
    engine: str = "vector"
    given: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()  # extra outcome columns, analysed as steady - burst

    @property
    def keys(self) -> list[str]:
        return [r.key for r in self.ranges]

    @property
    def model_seeds(self) -> list[int]:
        """Every sample runs these seeds (common random numbers across samples)."""
        return list(range(self.seed, self.seed + self.seeds))

    @property
    def columns(self) -> list[str]:
        """The analysed outcomes: the two headline differences, then the extra ones."""
        return [*HEADLINE, *(f"d_{o}" for o in self.outcomes)]

    def overrides(self, strategy: str, *extra: str) -> list[str]:
        return [*share_strategy_settings(list(self.given)), f"audience.size={self.size}",
                f"days={self.days}", f"engine={self.engine}", f"strategy={strategy}", *extra]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ranges"] = [asdict(r) for r in self.ranges]
        d["given"], d["outcomes"] = list(self.given), list(self.outcomes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Study:
        return cls(**{**d, "ranges": tuple(Range(**r) for r in d["ranges"]),
                      "given": tuple(d["given"]), "outcomes": tuple(d["outcomes"])})


def label(key: str) -> str:
    """A parameter's short name for figures: its last two parts (``annoyance.gain``)."""
    return ".".join(key.split(".")[-2:])


def checked_study(study: Study) -> Study:
    """The study, with its given settings, outcomes and sizes checked as ``python -m sim``
    checks settings; a :class:`SettingError` in one paragraph names the first at fault."""
    for arg in study.given:
        key, eq, _ = arg.partition("=")
        key = key.lstrip("+~")
        if not eq:
            raise SettingError(f"'{arg}' is not a setting: settings are given as key=value, "
                               f"e.g. platform=twitter_2011 or behaviour.leaving.churn=0.002.")
        if key in SET_BY_THE_STUDY:
            raise SettingError(f"Setting '{key}' cannot be given to python -m sim.sensitivity: "
                               f"{SET_BY_THE_STUDY[key]}.")
        if key in study.keys:
            raise SettingError(f"Setting '{key}' is given a value ({arg}) and is also one of "
                               f"the ranged parameters. Leave it out of the settings, or take "
                               f"it out of the ranges file to hold it fixed.")
    for r in study.ranges:
        if r.key in SET_BY_THE_STUDY:
            raise SettingError(f"The ranges give '{r.key}' a range, but the study sets it "
                               f"itself ({SET_BY_THE_STUDY[r.key]}). Take it out of the ranges.")
    if study.seeds < 1 or study.seed < 0:
        raise SettingError(f"--seeds = {study.seeds} and --seed = {study.seed} are not "
                           f"allowed: every sample needs at least one seed (--seeds >= 1), and "
                           f"seeds are whole numbers >= 0.")
    for strategy in STRATEGIES:  # (check() also refuses an audience the memory cannot hold)
        check(compose(study, strategy), other_strategies="ignore")
    return study


def compose(study: Study, strategy: str, *extra: str) -> DictConfig:
    """The settings a run of the study composes, as ``python -m sim`` would."""
    from hydra.errors import HydraException  # noqa: PLC0415 - Hydra is loaded by settings()

    from sim.config.checks import composition_error  # noqa: PLC0415
    try:
        return settings(*study.overrides(strategy, *extra))
    except HydraException as e:
        raise composition_error(e) from None


def defaults(study: Study) -> dict[str, float]:
    """Each ranged parameter's value when it is not sampled: its setting, with the settings
    given for every run."""
    cfg = compose(study, "steady")
    return {k: OmegaConf.select(cfg, k) for k in study.keys}


# --- designs ----------------------------------------------------------------------------------

def problem(keys: list[str]) -> dict:
    """SALib's problem: every parameter on the unit interval (mapped onto its range later)."""
    return {"num_vars": len(keys), "names": list(keys), "bounds": [[0.0, 1.0]] * len(keys)}


def morris_design(study: Study, trajectories: int, start: int = 0) -> pd.DataFrame:
    """``trajectories`` Morris trajectories over every ranged parameter (``D + 1`` samples
    each, on a grid of 4 levels), numbered from ``start``."""
    morris_sample, _, _, _ = _salib()
    unit = morris_sample.sample(problem(study.keys), trajectories, num_levels=LEVELS,
                                seed=study.seed)
    return design_frame(study, unit, study.keys, "morris", start)


def sobol_design(study: Study, keys: list[str], n: int, start: int = 0) -> pd.DataFrame:
    """Saltelli's design for first- and total-order Sobol' indices of ``keys``: ``n`` base
    samples, ``n * (len(keys) + 2)`` in all; the other parameters at their settings."""
    _, _, sobol_sample, _ = _salib()
    unit = sobol_sample.sample(problem(keys), n, calc_second_order=False, scramble=True,
                               seed=study.seed)
    return design_frame(study, unit, keys, "sobol", start)


def design_frame(study: Study, unit: np.ndarray, sampled: list[str], phase: str,
                 start: int) -> pd.DataFrame:
    """A design: sample number, phase, each parameter's value (a whole-number setting is
    rounded), and the unit-cube point it came from (``u:KEY``; empty where not sampled)."""
    fixed = defaults(study)
    n = len(unit)
    values, units = {}, {}
    for r in study.ranges:
        if r.key in sampled:
            u = np.asarray(unit[:, sampled.index(r.key)], float)
            v = r.from_unit(u)
            if isinstance(fixed[r.key], int) and not isinstance(fixed[r.key], bool):
                v = np.rint(v)
        else:
            u = np.full(n, np.nan)
            v = np.full(n, float(fixed[r.key]))
        values[r.key], units[UNIT + r.key] = v, u
    return pd.DataFrame({"sample": np.arange(start, start + n), "phase": phase, **values,
                         **units})


def to_unit(r: Range, values: np.ndarray) -> np.ndarray:
    """The inverse of :meth:`Range.from_unit`: where values lie on the range, 0 to 1."""
    v = np.asarray(values, float)
    if r.scale == "log":
        return (np.log(v) - np.log(r.low)) / (np.log(r.high) - np.log(r.low))
    return (v - r.low) / (r.high - r.low)


# --- running ----------------------------------------------------------------------------------

class Batch:
    """Runs samples in this process, one pair (steady, burst) per sample and seed. Each
    strategy's settings are composed once; a sample changes only its parameters' values (the
    same settings as composing them from the command line, which a test checks)."""

    def __init__(self, study: Study, simulate_fn: Callable | None = None):
        self.study = study
        self.base = {s: compose(study, s) for s in STRATEGIES}
        self.ints = {k for k, v in defaults(study).items()
                     if isinstance(v, int) and not isinstance(v, bool)}
        self.simulate = simulate_fn or simulate

    def config(self, strategy: str, values: dict[str, float], seed: int) -> DictConfig:
        cfg = copy.deepcopy(self.base[strategy])
        for key, value in values.items():
            OmegaConf.update(cfg, key, int(value) if key in self.ints else float(value),
                             merge=False)
        cfg.seed = int(seed)
        return cfg

    def pair(self, sample: int, values: dict[str, float], seed: int) -> dict:
        """One row: the sample, its seed, whether both runs finished, and the outcomes."""
        row = {"sample": int(sample), "seed": int(seed), "status": FINISHED, "message": ""}
        try:
            out = {s: self.simulate(self.config(s, values, seed), other_strategies="ignore")
                   .outcome.iloc[0] for s in STRATEGIES}
        except Exception as e:  # noqa: BLE001 - a failed sample is a row with its message
            row.update(status=FAILED, message=f"{type(e).__name__}: {' '.join(str(e).split())}")
            return row
        return {**row, **differences(self.study, out["steady"], out["burst"])}

    def run(self, design: pd.DataFrame, progress: bool = True, desc: str = "samples",
            save: Callable[[pd.DataFrame], None] | None = None) -> pd.DataFrame:
        """Every row of ``design`` on every seed, one after another; one row per pair.
        ``save`` is given the rows so far every minute or so (so a crash loses little)."""
        rows = []
        keys = self.study.keys
        total = len(design) * self.study.seeds
        saved = time.monotonic()
        with tqdm(total=total, desc=desc, unit="pair", disable=not progress or None,
                  leave=False) as bar:
            for sample, values in zip(design["sample"], design[keys].to_dict("records")):
                for seed in self.study.model_seeds:
                    rows.append(self.pair(sample, values, seed))
                    bar.update(1)
                    if save is not None and time.monotonic() - saved > SAVE_EVERY:
                        save(runs_frame(self.study, design, rows))
                        saved = time.monotonic()
        return runs_frame(self.study, design, rows)


_WORKER: Batch | None = None  # in a worker process of a Pool: its Batch


def _start_worker(study: dict) -> None:
    global _WORKER
    _WORKER = Batch(Study.from_dict(study))


def _work(task: tuple[int, dict, int]) -> dict:
    return _WORKER.pair(*task)


class Pool:
    """Runs pairs in ``workers`` processes, started once for the whole study (not per
    sample), each composing the settings once and running its engine on one thread."""

    def __init__(self, study: Study, workers: int):
        import multiprocessing  # noqa: PLC0415
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        self.study, self.workers = study, workers
        # spawn, not fork: the compiled engine's threads do not survive a fork
        self.executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(
            "spawn"), initializer=_start_worker, initargs=(study.to_dict(),))

    def run(self, design: pd.DataFrame, progress: bool = True, desc: str = "samples",
            save: Callable[[pd.DataFrame], None] | None = None) -> pd.DataFrame:
        tasks = [(int(sample), values, seed) for sample, values in
                 zip(design["sample"], design[self.study.keys].to_dict("records"))
                 for seed in self.study.model_seeds]
        rows = []
        saved = time.monotonic()
        try:
            for row in tqdm(self.executor.map(_work, tasks), total=len(tasks), desc=desc,
                            unit="pair", disable=not progress or None, leave=False):
                rows.append(row)
                if save is not None and time.monotonic() - saved > SAVE_EVERY:
                    save(runs_frame(self.study, design, rows))
                    saved = time.monotonic()
        except Exception as e:  # noqa: BLE001 - a worker died (memory, a signal): rows say so
            message = f"a worker process stopped ({type(e).__name__}: {e})"
            rows += [{"sample": s, "seed": seed, "status": FAILED, "message": message}
                     for s, _, seed in tasks[len(rows):]]
            self.close()
            self.__init__(self.study, self.workers)
        return runs_frame(self.study, design, rows)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def choose_threads(study: Study, workers: int = 1) -> Study:
    """The study with the engine's ``threads`` set, unless given: one per worker when there
    are several; else the faster of one thread and every core, timed on a pair of runs (a
    loaded machine can make a parallel hour many times slower). The tables do not depend on
    it."""
    if any(g.partition("=")[0].lstrip("+") == "threads" for g in study.given):
        return study
    if workers > 1 or study.engine == "agents":
        return replace(study, given=(*study.given, "threads=1"))
    best, fastest = None, math.inf
    for threads in (1, 0):
        tiny = replace(study, size=min(study.size, 20_000), days=min(study.days, 2),
                       given=(*study.given, f"threads={threads}"))
        batch, values = Batch(tiny), defaults(tiny)
        batch.pair(0, values, study.seed)  # warm up
        started = time.perf_counter()
        batch.pair(0, values, study.seed)
        if time.perf_counter() - started < fastest:
            best, fastest = threads, time.perf_counter() - started
    return replace(study, given=(*study.given, f"threads={best}"))


def differences(study: Study, steady: pd.Series, burst: pd.Series) -> dict:
    """Steady minus burst: followers at the end in % of the audience at the start, actions,
    and each extra outcome; each side's own headline numbers beside them."""
    row = {"d_followers_pct": 100.0 * (float(steady.followers_end) - float(burst.followers_end))
           / study.size,
           "d_actions": float(steady.actions) - float(burst.actions)}
    for o in study.outcomes:
        row[f"d_{o}"] = float(steady[o]) - float(burst[o])
    for side, out in (("steady", steady), ("burst", burst)):
        for o in dict.fromkeys([*KEPT, *study.outcomes]):
            row[f"{side}_{o}"] = float(out[o])
    row["version"] = str(steady.version)
    return row


def runs_frame(study: Study, design: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """One row per pair, in a stable order: sample, phase, seed, status, message, the
    parameters' values, the differences, each side's outcomes, sim's version."""
    runs = pd.DataFrame(rows, columns=run_columns(study))
    runs = runs.merge(design[["sample", "phase", *study.keys]], on="sample", how="left")
    first = ["sample", "phase", "seed", "status", "message", *study.keys]
    runs = runs[first + [c for c in run_columns(study) if c not in first]]
    runs["message"] = runs["message"].fillna("")
    return runs.sort_values(["sample", "seed"], kind="stable").reset_index(drop=True)


def run_columns(study: Study) -> list[str]:
    sides = [f"{s}_{o}" for s in STRATEGIES for o in dict.fromkeys([*KEPT, *study.outcomes])]
    return ["sample", "seed", "status", "message", *study.columns, *sides, "version"]


def failed_rows(study: Study, design: pd.DataFrame, message: str) -> pd.DataFrame:
    """Rows for samples that never ran (a launcher's job that did not finish)."""
    rows = [{"sample": int(s), "seed": seed, "status": FAILED, "message": message}
            for s in design["sample"] for seed in study.model_seeds]
    return runs_frame(study, design, rows)


def per_sample(study: Study, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per sample: the mean of each difference over its seeds. A sample counts as
    failed when any of its seeds failed (its pairs are no longer like the others')."""
    ok = runs.groupby("sample")["status"].agg(lambda s: bool((s == FINISHED).all()))
    message = runs.groupby("sample")["message"].agg(lambda m: next((x for x in m if x), ""))
    means = runs.groupby("sample")[study.columns].mean()
    out = pd.DataFrame({"status": np.where(ok, FINISHED, FAILED), "message": message})
    out = out.join(means)
    out.loc[out.status == FAILED, study.columns] = np.nan
    return out.reset_index()


# --- how long and how large -------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """Seconds a run of the study takes, measured on small runs: for ``hours`` hours, a fixed
    part and a part per follower."""

    hours: int
    fixed: float
    per_follower: float

    def per_run(self, size: int, days: int) -> float:
        return SAFETY * (days * 24 / self.hours) * (self.fixed + self.per_follower * size)


def measure(study: Study, simulate_fn: Callable | None = None) -> Timing:
    """Time a pair of small runs (after one to warm the compiled engine up) at two sizes; the
    runs also show that the study's settings run at all. Nothing is written."""
    days = min(study.days, 2)
    small, large = min(study.size, 1000), min(study.size, 10_000)
    seconds = {}
    for i, size in enumerate([small, small, large] if large > small else [small, small]):
        tiny = replace(study, size=size, days=days)
        batch, values = Batch(tiny, simulate_fn), defaults(tiny)
        started = time.perf_counter()
        row = batch.pair(0, values, study.seed)
        if row["status"] == FAILED:
            raise SettingError(f"The study's settings do not run: steady or burst with the "
                               f"parameters at their settings failed ({row['message']}).")
        if i > 0:  # the first pair only warms the compiled engine up
            seconds[size] = (time.perf_counter() - started) / 2
    if len(seconds) == 1:
        return Timing(days * 24, seconds[small], 0.0)
    per = max((seconds[large] - seconds[small]) / (large - small), 0.0)
    return Timing(days * 24, max(seconds[small] - per * small, 0.0), per)


def outcome_columns(study: Study, simulate_fn: Callable | None = None) -> list[str]:
    """The numeric outcome columns a run reports (from one tiny run, which also warms the
    compiled engine up), those that can be named with ``--outcome``."""
    tiny = replace(study, size=min(study.size, 200), days=1)
    out = (simulate_fn or simulate)(compose(tiny, "steady"), other_strategies="ignore").outcome
    return [c for c in out.columns if c not in NOT_OUTCOMES and not c.endswith("_version")
            and pd.api.types.is_numeric_dtype(out[c])]


def check_outcomes(names: list[str], allowed: list[str]) -> None:
    for name in names:
        if name not in allowed:
            raise SettingError(f"--outcome {name!r} is not an outcome of a run. Allowed: "
                               f"{', '.join(allowed)} (each is analysed as steady - burst).")


def check_memory(study: Study, parallel: int = 1) -> None:
    """Refuse a design whose runs, ``parallel`` at a time, would not fit in memory."""
    cfg = compose(study, "burst")
    engine = chosen_engine(cfg.engine, cfg.audience.size)
    need, have = parallel * needed_bytes(cfg, engine), HEADROOM * available_bytes()
    if need > have:
        raise SettingError(f"The design does not fit in memory: {parallel} run(s) at a time "
                           f"of {study.size:,} followers for {study.days} days on engine="
                           f"{engine} need about {need / 2**30:.1f} GiB, and {have / 2**30:.1f} "
                           f"GiB can be used. Give a smaller --size, or fewer jobs at a time "
                           f"(hydra.launcher.n_jobs=...).")


def minutes(study: Study, timing: Timing, samples: int) -> float:
    return samples * study.seeds * 2 * timing.per_run(study.size, study.days) / 60


def duration(minutes_: float) -> str:
    if minutes_ < 1:
        return f"{max(minutes_ * 60, 1):.0f} s"
    if minutes_ < 90:
        return f"{minutes_:.0f} min"
    return f"{minutes_ / 60:.1f} h"


# --- analysis ---------------------------------------------------------------------------------

@dataclass
class Indices:
    """Morris and Sobol' indices, one row per outcome and parameter, and what kept any of
    them from being computed."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


INDEX_COLUMNS = ["outcome", "parameter", "mu", "mu_star", "mu_star_conf", "sigma", "screened_in",
                 "S1", "S1_conf", "ST", "ST_conf"]


def _whole_groups(design: pd.DataFrame, samples: pd.DataFrame, phase: str, size: int,
                  method: str, groups: str):
    """A design phase's rows in order, merged with the samples' results, and which rows
    belong to groups (trajectories, base samples) of ``size`` whose every sample finished:
    SALib analyses whole groups only. ``keep`` is None when fewer than 2 are whole."""
    rows = design[design.phase == phase].sort_values("sample")
    merged = rows[["sample"]].merge(samples, on="sample", how="left")
    n = len(rows) // size
    ok = (merged.status == FINISHED).to_numpy().reshape(n, size).all(axis=1)
    notes = []
    if not ok.all():
        notes.append(f"{method}: {n - ok.sum()} of {n} {groups} had a failed sample and "
                     f"were left out; the indices rest on the other {ok.sum()}.")
    if ok.sum() < 2:
        notes.append(f"{method} indices cannot be computed: SALib needs at least 2 whole "
                     f"{groups} and {ok.sum()} finished.")
        return rows, merged, None, notes
    return rows, merged, np.repeat(ok, size), notes


def morris(study: Study, design: pd.DataFrame, samples: pd.DataFrame) -> Indices:
    """Morris indices of every ranged parameter for every outcome, from the trajectories in
    which every sample finished (a trajectory with a failed sample is left out)."""
    _, morris_analyze, _, _ = _salib()
    d = len(study.keys)
    rows, merged, keep, notes = _whole_groups(design, samples, "morris", d + 1,
                                              "Morris", "trajectories")
    if keep is None:
        return Indices(pd.DataFrame(columns=INDEX_COLUMNS), notes)
    x = rows[[UNIT + k for k in study.keys]].to_numpy(float)[keep]
    table = []
    for column in study.columns:
        y = merged[column].to_numpy(float)[keep]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = morris_analyze.analyze(problem(study.keys), x, y, num_resamples=RESAMPLES,
                                        conf_level=CONFIDENCE, num_levels=LEVELS,
                                        seed=study.seed)
        for i, key in enumerate(study.keys):
            table.append({"outcome": column, "parameter": key, "mu": float(si["mu"][i]),
                          "mu_star": float(si["mu_star"][i]),
                          "mu_star_conf": float(si["mu_star_conf"][i]),
                          "sigma": float(si["sigma"][i])})
    return Indices(pd.DataFrame(table).reindex(columns=INDEX_COLUMNS), notes)


def screen(study: Study, table: pd.DataFrame, share: float = 0.1, most: int = 8) -> list[str]:
    """The parameters that matter: a Morris mu* at least ``share`` of the largest for some
    outcome, at most ``most`` of them (those with the largest share first)."""
    if table.empty:
        return []
    t = table.copy()
    top = t.groupby("outcome")["mu_star"].transform("max")
    t["share"] = np.where(top > 0, t["mu_star"] / top.where(top > 0, 1.0), 0.0)
    best = t.groupby("parameter")["share"].max()
    chosen = best[best >= share].sort_values(ascending=False, kind="stable")
    order = [k for k in chosen.index if k in study.keys]
    return order[:most]


def sobol(study: Study, keys: list[str], design: pd.DataFrame, samples: pd.DataFrame) -> Indices:
    """First- and total-order Sobol' indices of ``keys`` for every outcome, with bootstrap
    intervals, from the base samples whose every sample finished."""
    _, _, _, sobol_analyze = _salib()
    d = len(keys)
    _, merged, keep, notes = _whole_groups(design, samples, "sobol", d + 2, "Sobol'",
                                           "base samples")
    if keep is None:
        return Indices(pd.DataFrame(columns=INDEX_COLUMNS), notes)
    table = []
    for column in study.columns:
        y = merged[column].to_numpy(float)[keep]
        if np.var(y) == 0:
            notes.append(f"Sobol': {column} is the same in every sample; its indices are "
                         f"undefined (shown empty).")
            si = {k: np.full(d, np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                # a Generator, not the seed: SALib 1.5-1.6 ignore seed 0 ("if seed:")
                si = sobol_analyze.analyze(problem(keys), y, calc_second_order=False,
                                           num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                                           seed=np.random.default_rng(study.seed))
        for i, key in enumerate(keys):
            table.append({"outcome": column, "parameter": key,
                          **{k: float(si[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")}})
    return Indices(pd.DataFrame(table), notes)


def indices_table(study: Study, m: Indices, s: Indices, chosen: list[str]) -> pd.DataFrame:
    """Morris and Sobol' side by side, one row per outcome and parameter."""
    base = pd.DataFrame([{"outcome": o, "parameter": k} for o in study.columns
                         for k in study.keys])
    if not m.table.empty:
        base = base.merge(m.table[["outcome", "parameter", "mu", "mu_star", "mu_star_conf",
                                   "sigma"]], on=["outcome", "parameter"], how="left")
    if not s.table.empty:
        base = base.merge(s.table, on=["outcome", "parameter"], how="left")
    base["screened_in"] = base["parameter"].isin(chosen)
    return base.reindex(columns=INDEX_COLUMNS)


# --- the whole study --------------------------------------------------------------------------

@dataclass
class Result:
    study: Study
    design: pd.DataFrame
    runs: pd.DataFrame
    samples: pd.DataFrame
    indices: pd.DataFrame
    chosen: list[str]
    boxes: pd.DataFrame
    regime: pd.DataFrame
    map_keys: list[str]
    notes: list[str]


Runner = Callable[[pd.DataFrame], pd.DataFrame]  # design rows -> their runs


def run_study(study: Study, trajectories: int, sobol_n: int, runner: Runner,
              share: float = 0.1, most: int = 8, map_keys: list[str] | None = None,
              on_runs: Callable[[pd.DataFrame, pd.DataFrame], None] | None = None,
              tell: Callable[[str], None] = lambda _: None) -> Result:
    """Morris over every ranged parameter, Sobol' over those that matter, then scenario
    discovery over every run. ``runner`` runs design rows (in this process or through a
    launcher); ``on_runs(design, runs)`` is told after each phase (to write what is done)."""
    design = morris_design(study, trajectories)
    tell(f"Morris: {trajectories} trajectories of {len(study.keys) + 1} samples, "
         f"{len(design)} samples")
    runs = runner(design)
    if on_runs:
        on_runs(design, runs)
    m = morris(study, design, per_sample(study, runs))
    chosen = screen(study, m.table, share, most)
    if sobol_n and chosen:
        extra = sobol_design(study, chosen, sobol_n, start=len(design))
        tell(f"Sobol': {len(chosen)} parameters ({', '.join(label(k) for k in chosen)}), "
             f"{sobol_n} base samples, {len(extra)} samples")
        more = runner(extra)
        design = pd.concat([design, extra], ignore_index=True)
        runs = pd.concat([runs, more], ignore_index=True)
        if on_runs:
            on_runs(design, runs)
    result = analyse(study, design, runs, chosen, map_keys)
    if sobol_n and not chosen:
        result.notes.append("Sobol': no parameter moved any outcome in the Morris screening, "
                            "so there was nothing to apportion.")
    return result


def analyse(study: Study, design: pd.DataFrame, runs: pd.DataFrame, chosen: list[str],
            map_keys: list[str] | None = None) -> Result:
    """Indices, boxes and the regime map from a design and its runs (``chosen``: the
    parameters of the Sobol' phase). Samples without a finished run on every seed (failed,
    or never run) are left out, and the notes say so."""
    runs = runs[runs["sample"].isin(design["sample"])]
    samples = design[["sample"]].merge(per_sample(study, runs), on="sample", how="left")
    samples["status"] = samples["status"].fillna(FAILED)
    samples["message"] = samples["message"].fillna("not run")
    m = morris(study, design, samples)
    s = (sobol(study, chosen, design, samples) if chosen and (design.phase == "sobol").any()
         else Indices(pd.DataFrame(columns=INDEX_COLUMNS)))
    notes = [*m.notes, *s.notes]
    table = indices_table(study, m, s, chosen)
    failed = int((runs.status == FAILED).sum())
    missing = int((samples.message == "not run").sum())
    if missing:
        notes.insert(0, f"{missing} of {len(design)} samples of the design have not run.")
    if failed:
        notes.insert(0, f"{failed} of {len(runs)} runs failed (status=failed in runs.csv, "
                        f"with their message); the analysis uses the samples whose every "
                        f"run finished.")
    x = design.set_index("sample")[study.keys].loc[samples["sample"]]
    fine = (samples.status == FINISHED).to_numpy()
    holds = discovery.claim_holds(samples).to_numpy()
    boxes = discovery.boxes(x[fine].reset_index(drop=True), ~holds[fine])
    keys = map_keys or regime_keys(study, table, samples[fine], boxes)
    regime = discovery.regime(study.ranges, x[fine].reset_index(drop=True), holds[fine], keys) \
        if len(keys) == 2 and fine.any() else pd.DataFrame()
    return Result(study, design, runs, samples, table, chosen, boxes, regime, keys, notes)


def read_folder(folder: Path) -> tuple[Study, dict, pd.DataFrame, pd.DataFrame]:
    """A study folder's study, its record (study.yaml), design and runs; a
    :class:`SettingError` if it is not one."""
    folder = Path(folder)
    need = [folder / "study.yaml", folder / "design.parquet", folder / "runs.parquet"]
    if not folder.is_dir():
        raise SettingError(f"'{folder}' is not a folder. Give the folder of a sensitivity "
                           f"study, e.g. results/sensitivity/<time>_<name>/.")
    missing = [p.name for p in need if not p.is_file()]
    if missing:
        raise SettingError(f"'{folder}' is not the folder of a sensitivity study that has run: "
                           f"it has no {' or '.join(missing)}. Give a folder that python -m "
                           f"sim.sensitivity wrote, e.g. results/sensitivity/<time>_<name>/.")
    record = OmegaConf.to_container(OmegaConf.load(need[0]), resolve=True)
    return (Study.from_dict(record["study"]), record, pd.read_parquet(need[1]),
            pd.read_parquet(need[2]))


def regime_keys(study: Study, table: pd.DataFrame, samples: pd.DataFrame,
                boxes: pd.DataFrame) -> list[str]:
    """The regime map's two parameters: those of PRIM's first box that are least likely
    chance (smallest quasi-p), if it holds enough samples to be a finding, filled up from the
    most important parameters of the margin that most often fails (followers kept when
    neither or both fail as often)."""
    first = boxes[boxes.box == 1].copy() if len(boxes) else boxes
    keys = []
    if len(first) and first.samples.iloc[0] >= discovery.FEW:
        first["qp"] = first[["qp_low", "qp_high"]].min(axis=1).fillna(1.0)
        keys = list(first.sort_values("qp", kind="stable").parameter[:2])
    fails = {c: int((samples[c] <= 0).sum()) for c in HEADLINE}
    column = max(HEADLINE, key=lambda c: (fails[c], c == "d_followers_pct"))
    keys += [k for k in ranking(study, table, column) if k not in keys]
    return keys[:2]


def ranking(study: Study, table: pd.DataFrame, outcome: str) -> list[str]:
    """Parameters from the most to the least important for ``outcome``: by total-order
    Sobol' index where it was computed, then by Morris mu*."""
    t = table[table.outcome == outcome].copy()
    t["ST"] = t["ST"].fillna(-1.0)
    t["mu_star"] = t["mu_star"].fillna(-1.0)
    t = t.sort_values(["ST", "mu_star"], ascending=False, kind="stable")
    return [k for k in t.parameter if k in study.keys]


# --- figures ------------------------------------------------------------------------------------

def morris_figure(study: Study, table: pd.DataFrame) -> Figure:
    """mu* against sigma for each outcome; the parameters that stand out are named."""
    outcomes = study.columns
    fig = Figure(figsize=(6.2 * len(outcomes), 5.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes)))
    for ax, outcome in zip(axes, outcomes):
        t = table[table.outcome == outcome].dropna(subset=["mu_star"])
        ax.errorbar(t.mu_star, t.sigma, xerr=t.mu_star_conf, fmt="o", ms=5, lw=0.8,
                    color="tab:blue", ecolor="0.6")
        top = t.mu_star.max() if len(t) else 0.0
        if top > 0:
            lim = max(top, t.sigma.max()) * 1.1
            ax.plot([0, lim], [0, lim], ls="--", lw=0.7, color="0.5")
            ax.text(lim * 0.98, lim * 0.98, "σ = μ*", ha="right", va="top", fontsize=8,
                    color="0.4")
            shown = t[t.mu_star >= 0.1 * top].nlargest(LABELLED, "mu_star").sort_values(
                "mu_star")
            for j, (_, r) in enumerate(shown.iterrows()):  # alternate, so neighbours part
                ax.annotate(label(r.parameter), (r.mu_star, r.sigma), fontsize=8,
                            xytext=(4, 4 if j % 2 else -10), textcoords="offset points")
        else:
            ax.text(0.5, 0.5, "no parameter moves this outcome", transform=ax.transAxes,
                    ha="center", color="0.4")
        ax.set_xlabel("μ*: mean absolute effect of moving across the range")
        ax.set_ylabel("σ: spread of the effect (interactions, non-linearity)")
        ax.set_title(HEADLINE.get(outcome, f"{outcome[2:]}, steady - burst"), fontsize=10)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    fig.suptitle(f"Morris screening: {len(study.keys)} parameters, {study.size:,} followers, "
                 f"{study.days} days", fontsize=11)
    return fig


def sobol_figure(study: Study, table: pd.DataFrame) -> Figure:
    """First- and total-order Sobol' indices with their 95 % intervals, per outcome."""
    outcomes = study.columns
    t_all = table.dropna(subset=["ST"])
    keys = list(dict.fromkeys(t_all.parameter)) or ["(none)"]
    fig = Figure(figsize=(6.2 * len(outcomes), 1.2 + 0.45 * len(keys)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes), sharey=True))
    y = np.arange(len(keys))
    for ax, outcome in zip(axes, outcomes):
        t = t_all[t_all.outcome == outcome].set_index("parameter").reindex(keys)
        ax.barh(y - 0.2, t.S1, height=0.38, xerr=t.S1_conf, color="tab:blue", ecolor="0.3",
                label="first order S1")
        ax.barh(y + 0.2, t.ST, height=0.38, xerr=t.ST_conf, color="tab:orange", ecolor="0.3",
                label="total order ST")
        ax.axvline(0, color="0.3", lw=0.6)
        if t.ST.isna().all():
            ax.text(0.5, 0.5, "undefined: the outcome did not vary", transform=ax.transAxes,
                    ha="center", color="0.4")
        ax.set_yticks(y, [label(k) for k in keys])
        ax.invert_yaxis()
        ax.set_xlabel("share of the outcome's variance (95 % interval)")
        ax.set_title(HEADLINE.get(outcome, f"{outcome[2:]}, steady - burst"), fontsize=10)
        ax.legend(loc="lower right", frameon=False, fontsize=8)
    fig.suptitle("Sobol' indices of the parameters the screening kept", fontsize=11)
    return fig


# --- writing --------------------------------------------------------------------------------------

def write_table(df: pd.DataFrame, folder: Path, name: str) -> None:
    """``NAME.csv`` and ``NAME.parquet``, each written whole."""
    write_csv(df, folder / f"{name}.csv")
    write_whole(folder / f"{name}.parquet", lambda tmp: df.to_parquet(tmp, index=False))


def write_text(folder: Path, name: str, text: str) -> None:
    write_whole(folder / name, lambda tmp: Path(tmp).write_text(text))


def write_progress(folder: Path, design: pd.DataFrame, runs: pd.DataFrame) -> None:
    """What is done so far: the design and the runs (rewritten whole after each phase)."""
    write_table(design, folder, "design")
    write_table(runs, folder, "runs")


def write_result(folder: Path, result: Result, header: str) -> str:
    """Every table, figure and the report; returns the report. A figure this result has no
    data for is removed, so an analysis run again (``--analyse``) leaves no older figure
    beside its tables."""
    write_progress(folder, result.design, result.runs)
    write_table(result.indices, folder, "indices")
    write_csv(result.boxes, folder / "boxes.csv")
    drawn = {"morris.png": len(result.indices.dropna(subset=["mu_star"])) > 0,
             "sobol.png": len(result.indices.dropna(subset=["ST"])) > 0,
             "regime.png": len(result.regime) > 0, "regime.csv": len(result.regime) > 0}
    for name in (n for n, made in drawn.items() if not made):
        (folder / name).unlink(missing_ok=True)
    if drawn["morris.png"]:
        save(morris_figure(result.study, result.indices), folder / "morris.png")
    if drawn["sobol.png"]:
        save(sobol_figure(result.study, result.indices), folder / "sobol.png")
    if drawn["regime.png"]:
        write_csv(result.regime, folder / "regime.csv")
        save(discovery.regime_figure(result.study.ranges, result.regime, result.map_keys,
                                     _map_points(result), result.study), folder / "regime.png")
    text = report(result, header)
    write_text(folder, "report.txt", text)
    return text


def _map_points(result: Result) -> pd.DataFrame:
    fine = result.samples.status == FINISHED
    x = result.design.set_index("sample").loc[result.samples["sample"][fine], result.map_keys]
    return x.reset_index(drop=True).assign(
        holds=discovery.claim_holds(result.samples[fine]).to_numpy())


def study_yaml(study: Study, command: str, trajectories: int, sobol_n: int, chosen=None,
               ranges: str = "") -> str:
    """The study's record: the command, the designs' sizes, the study, the versions and (once
    screened) the Sobol' phase's parameters."""
    doc = {"command": command, "ranges": ranges, "trajectories": trajectories,
           "sobol_n": sobol_n,
           "levels": LEVELS, "resamples": RESAMPLES, "confidence": CONFIDENCE,
           "study": study.to_dict(), "versions": versions()}
    if chosen is not None:
        doc["sobol_parameters"] = list(chosen)
    return OmegaConf.to_yaml(OmegaConf.create(doc))


# --- the report -----------------------------------------------------------------------------

def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def report(result: Result, header: str) -> str:
    """In words: how often steady beats burst, which parameters decide each margin, and where
    (which boxes of parameter space) the claim fails."""
    study, s = result.study, result.samples
    fine = s[s.status == FINISHED]
    n = len(fine)
    lines = [header, ""]
    lines += [f"Note: {note}" for note in result.notes]
    if result.notes:
        lines.append("")
    if n == 0:
        lines.append("No sample finished, so nothing can be said about the claim.")
        return "\n".join(lines) + "\n"
    holds = discovery.claim_holds(fine)
    lines.append(
        f"Does steady beat burst? In {holds.sum()} of {n} samples ({_pct(holds.sum(), n)}) "
        f"steady both kept more followers and won more actions than burst; it kept more "
        f"followers in {_pct((fine.d_followers_pct > 0).sum(), n)} and won more actions in "
        f"{_pct((fine.d_actions > 0).sum(), n)}. (Samples drawn by the designs: Morris "
        f"points sit on a grid and Sobol' points vary only the parameters that matter, so "
        f"these shares describe the runs, not a probability over the ranges.)")
    lines.append("")
    for column in study.columns:
        lines += _margin(result, column, fine)
        lines.append("")
    lines += discovery.describe_boxes(result.boxes, n, int((~holds).sum()))
    if len(result.regime):
        a, b = (label(k) for k in result.map_keys)
        lines += ["", f"regime.png maps the chance that steady wins on both over {a} and {b} "
                      f"(a kernel average over the finished samples, the other parameters as "
                      f"sampled)."]
    return "\n".join(lines) + "\n"


def _margin(result: Result, column: str, fine: pd.DataFrame) -> list[str]:
    table = result.indices[result.indices.outcome == column]
    values = fine[column]
    what = HEADLINE.get(column, f"{column[2:]}, steady - burst")
    lines = [f"{what[0].upper()}{what[1:]}: mean {values.mean():+.3g}, from {values.min():+.3g} "
             f"to {values.max():+.3g} across samples."]
    if table.mu_star.notna().any():
        top = table.mu_star.max()
        order = ranking(result.study, table, column)
        decisive = [k for k in order if _row(table, k).mu_star >= 0.1 * top] if top > 0 else []
        if not decisive:
            lines.append("  No parameter moves it (every Morris mu* is 0).")
            return lines
        described = []
        for k in decisive[:DESCRIBED]:
            r = _row(table, k)
            sob = (f"total-order Sobol' {r.ST:.2f} [{r.ST - r.ST_conf:.2f}, "
                   f"{r.ST + r.ST_conf:.2f}], first-order {r.S1:.2f}; "
                   if pd.notna(r.ST) else "")
            direction = "raises" if r.mu > 0 else "lowers"
            described.append(f"{k} ({sob}Morris mu* {r.mu_star:.3g}, moving it across its "
                             f"range {direction} the margin on average by {abs(r.mu):.3g})")
        lines.append("  Decided by: " + "; ".join(described) + ".")
        if len(decisive) > DESCRIBED:
            lines.append(f"  Also above a tenth of the largest effect (Morris mu* >= "
                         f"{0.1 * top:.3g}), in order: "
                         f"{', '.join(label(k) for k in decisive[DESCRIBED:])}.")
        rest = len(table) - len(decisive)
        if rest:
            lines.append(f"  The other {rest} parameters move it by less than a tenth of the "
                         f"largest effect.")
        interacting = [label(k) for k in decisive
                       if _row(table, k).sigma > _row(table, k).mu_star]
        if interacting:
            lines.append(f"  Effects that depend on the other parameters (sigma > mu*): "
                         f"{', '.join(interacting)}.")
    return lines


def _row(table: pd.DataFrame, key: str):
    return table[table.parameter == key].iloc[0]


def chunks(n: int, per_job: int) -> Iterable[tuple[int, int]]:
    """(start, stop) of each job's rows when ``n`` rows go ``per_job`` to a job."""
    for i in range(math.ceil(n / per_job)):
        yield i * per_job, min((i + 1) * per_job, n)
