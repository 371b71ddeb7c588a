"""``python -m sim.sensitivity``: which unpinned parameters decide whether steady beats burst.

Morris screening over every ranged parameter (``conf/uncertainty/default.yaml``, or
``--ranges``), Sobol' indices over those that matter, and the boxes of parameter space where
steady does not beat burst, from paired runs (same budget, same seeds). The runs go one after
another in this process by default; ``--launcher joblib|submitit_local|submitit_slurm|ray``
sends them through Hydra's launchers instead, ``--per-job`` samples to a job::

    python -m sim.sensitivity                                  # 20,000 followers, 30 days
    python -m sim.sensitivity --trajectories 4 --sobol-n 0 --size 5000 --days 10
    python -m sim.sensitivity --ranges my_ranges.yaml --outcome unfollows platform=twitter_2011
    python -m sim.sensitivity --size 100000 --launcher submitit_slurm \\
        hydra.launcher.partition=short hydra.launcher.account=myproject

Writes ``results/sensitivity/<time>_<name>/``: ``design``, ``runs`` and ``indices`` (CSV and
Parquet), ``boxes.csv``, ``regime.csv``, ``morris.png``, ``sobol.png``, ``regime.png``,
``study.yaml`` and ``report.txt``. A bad ranges file, setting or option, or a design that
will not fit in the time (``--max-minutes``) or memory at hand, is refused in one paragraph
with exit status 2 before anything is written.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import math
import os
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pandas as pd
import yaml

from sim.config import uncertainty
from sim.config.compose import run_dir
from sim.config.schema import CONF_DIR
from sim.errors import SettingError, UserError
from sim.experiment import discovery
from sim.experiment import sensitivity as sa
from sim.io.files import require_parquet, write_whole

LAUNCHERS = {  # --launcher: (Hydra's launcher option, its plugin, sim's extra)
    "joblib": ("joblib", "hydra_joblib_launcher", "joblib"),
    "submitit_local": ("submitit_local", "hydra_submitit_launcher", "submitit"),
    "submitit_slurm": ("slurm", "hydra_submitit_launcher", "submitit"),  # conf/hydra/launcher
    "ray": ("ray", "hydra_ray_launcher", "ray"),
}
ON_A_CLUSTER = {"submitit_slurm", "ray"}  # their wall time is not this machine's to estimate
JOB_CONFIG = "sim_sensitivity_job"
STAMP = "%Y-%m-%d_%H-%M-%S"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sim.sensitivity", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Settings (key=value, as for python -m sim) apply to every run; hydra.launcher."
               "NAME=VALUE settings go to the launcher. Exit status: 0 when the study ran, 2 "
               "for bad input (nothing is written).")
    p.add_argument("--ranges", default="default",
                   help="the ranges: a name in conf/uncertainty/ or a YAML file (default: "
                        "default, 26 parameters)")
    p.add_argument("--size", type=int, default=20_000, help="followers per run (20000)")
    p.add_argument("--days", type=int, default=30, help="days per run (30)")
    p.add_argument("--seeds", type=int, default=1,
                   help="seeds per sample, paired between steady and burst (1)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the designs and bootstraps, and the first model seed (0)")
    p.add_argument("--engine", choices=("vector", "agents", "auto"), default="vector",
                   help="engine for every run (vector)")
    p.add_argument("--trajectories", type=int, default=10,
                   help="Morris trajectories, each of (parameters + 1) samples (10)")
    p.add_argument("--sobol-n", type=int, default=64,
                   help="Sobol' base samples, a power of 2; 0: Morris only (64)")
    p.add_argument("--screen", type=float, default=0.1,
                   help="Sobol' takes the parameters whose Morris mu* is at least this share of "
                        "the largest, for some outcome (0.1)")
    p.add_argument("--most", type=int, default=8, help="at most this many parameters for "
                                                       "Sobol' (8)")
    p.add_argument("--outcome", action="append", default=[],
                   help="another outcome column to analyse as steady - burst (repeat, or "
                        "comma-separated), e.g. unfollows,engagements")
    p.add_argument("--map", default=None, metavar="KEY,KEY",
                   help="the regime map's two parameters (default: the two that matter most "
                        "for followers kept)")
    p.add_argument("--name", default=None, help="the folder's name after the time (default: "
                                                "the ranges' name)")
    p.add_argument("--results", default="results/sensitivity",
                   help="where the folder goes (results/sensitivity)")
    p.add_argument("--max-minutes", type=float, default=600.0,
                   help="refuse a design estimated to take longer (600)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes that run samples side by side, started once (1: this "
                        "process only); each then runs its engine on one thread")
    p.add_argument("--launcher", choices=("none", *LAUNCHERS), default="none",
                   help="none (default): every run in this process; else Hydra's launcher")
    p.add_argument("--per-job", type=int, default=10,
                   help="samples per launcher job (10)")
    p.add_argument("--analyse", default=None, metavar="FOLDER",
                   help="analyse again the runs in FOLDER (a study's folder; e.g. after an "
                        "interruption, or with another --map); runs nothing")
    p.add_argument("settings", nargs="*", metavar="key=value", help="settings for every run")
    return p


class Prepared:
    """A study checked and estimated, ready to write and run."""

    def __init__(self, args, study: sa.Study, timing: sa.Timing, hydra_args: list[str],
                 map_keys: list[str] | None, name: str):
        self.args, self.study, self.timing = args, study, timing
        self.hydra_args, self.map_keys, self.name = hydra_args, map_keys, name


def prepare(args, say=print) -> Prepared:
    """Every check that can refuse the study, before anything is written: the ranges, the
    options, the settings, the outcomes, the memory and the estimated time."""
    _check_options(args)
    sa._salib()  # the optional extra, refused here rather than after the runs
    discovery._prim()
    require_parquet("python -m sim.sensitivity")
    ranges = tuple(uncertainty.load(args.ranges))
    given = [s for s in args.settings if not s.startswith("hydra.")]
    hydra_args = [s for s in args.settings if s.startswith("hydra.")]
    if hydra_args and args.launcher == "none":
        raise SettingError(f"Setting '{hydra_args[0]}' is a launcher's setting, and no launcher "
                           f"was chosen. Give --launcher joblib|submitit_local|submitit_slurm|"
                           f"ray, or leave it out.")
    if args.launcher != "none":
        _check_launcher(args.launcher)
    outcomes = [o.strip() for arg in args.outcome for o in arg.split(",") if o.strip()]
    study = sa.checked_study(sa.Study(ranges, size=args.size, days=args.days, seeds=args.seeds,
                                      seed=args.seed, engine=args.engine, given=tuple(given),
                                      outcomes=tuple(dict.fromkeys(outcomes))))
    map_keys = _map_keys(args.map, study)
    name = args.name or Path(args.ranges).stem
    if not name or "/" in name or name.startswith("."):
        raise SettingError(f"--name {args.name!r} cannot name a folder: give a plain name, "
                           f"e.g. --name flooding.")
    parallel = _parallel(args, hydra_args)
    sa.check_memory(study, parallel)
    say(f"sim.sensitivity: measuring runs on this machine (up to {min(args.size, 20_000):,} "
        f"followers, {min(args.days, 2)} days) ...")
    sa.check_outcomes(outcomes, sa.outcome_columns(study))
    study = sa.choose_threads(study, parallel if args.launcher == "none" else 2)
    timing = sa.measure(study)
    _check_time(args, study, timing, say, parallel)
    return Prepared(args, study, timing, hydra_args, map_keys, name)


def _check_options(args) -> None:
    if args.trajectories < 2:
        raise SettingError(f"--trajectories {args.trajectories} is not allowed: Morris needs at "
                           f"least 2 trajectories (10 is usual for screening).")
    n = args.sobol_n
    if n != 0 and (n < 2 or n & (n - 1)):
        raise SettingError(f"--sobol-n {n} is not allowed: Sobol' sequences are balanced only "
                           f"at powers of 2 (e.g. 32, 64, 128), or give 0 for Morris only.")
    if not 0 < args.screen <= 1:
        raise SettingError(f"--screen {args.screen} is not allowed: a share of the largest "
                           f"Morris mu*, above 0 and at most 1 (e.g. 0.1).")
    if args.most < 1 or args.per_job < 1 or args.workers < 1:
        raise SettingError(f"--most {args.most}, --per-job {args.per_job} and --workers "
                           f"{args.workers} are not all allowed: each must be at least 1.")
    if args.workers > 1 and args.launcher != "none":
        raise SettingError(f"--workers {args.workers} and --launcher {args.launcher} cannot be "
                           f"given together: the launcher decides how many runs go side by "
                           f"side (e.g. hydra.launcher.n_jobs=2 for joblib).")
    if not args.max_minutes > 0:
        raise SettingError(f"--max-minutes {args.max_minutes} is not allowed: give a time "
                           f"above 0.")


def _check_launcher(name: str) -> None:
    _, plugin, extra = LAUNCHERS[name]
    try:
        found = importlib.util.find_spec(f"hydra_plugins.{plugin}") is not None
    except ImportError:
        found = False
    if not found:
        raise SettingError(f"--launcher {name} needs Hydra's launcher plugin {plugin}, which is "
                           f"not installed: pip install 'sim[{extra}]'.")


def _map_keys(text: str | None, study: sa.Study) -> list[str] | None:
    if text is None:
        return None
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if len(keys) != 2 or keys[0] == keys[1] or any(k not in study.keys for k in keys):
        raise SettingError(f"--map {text!r} is not allowed: give two different ranged "
                           f"parameters, e.g. --map {study.keys[0]},{study.keys[-1]}. Ranged: "
                           f"{', '.join(study.keys)}.")
    return keys


def _parallel(args, hydra_args: list[str]) -> int:
    """Runs at a time on this machine: ``--workers`` (one: this process, whose engine may
    spread a run over the cores); joblib's n_jobs (default: every core)."""
    if args.launcher == "none":
        return args.workers
    if args.launcher != "joblib":
        return 1
    for arg in hydra_args:
        key, _, value = arg.partition("=")
        if key.lstrip("+") == "hydra.launcher.n_jobs":
            try:
                return max(int(value), 1)
            except ValueError:
                break
    return os.cpu_count() or 1


def _check_time(args, study: sa.Study, timing: sa.Timing, say, parallel: int = 1) -> None:
    """Refuse a design whose estimated time exceeds ``--max-minutes`` (on this machine, with
    ``parallel`` runs at a time on at most as many cores)."""
    d = len(study.keys)
    morris_n = args.trajectories * (d + 1)
    sobol_n = args.sobol_n * (min(args.most, d) + 2)
    total = sa.minutes(study, timing, morris_n + sobol_n) / min(parallel, os.cpu_count() or 1)
    per_run = timing.per_run(study.size, study.days)
    runs = 2 * study.seeds * (morris_n + sobol_n)
    what = (f"Morris's {morris_n:,} samples" + (f" and up to {sobol_n:,} Sobol' samples"
                                                 if sobol_n else "")
            + f", each run as steady and as burst on {study.seeds} seed(s): {runs:,} runs of "
              f"{study.size:,} followers for {study.days} days")
    say(f"sim.sensitivity: {what}; about {sa.duration(total)} of computing on this machine "
        f"(about {per_run:.1f} s a run, measured on small runs).")
    if args.launcher in ON_A_CLUSTER:
        return  # the cluster's capacity, not this machine's, decides
    if total > args.max_minutes:
        raise SettingError(
            f"The design is too large for the time allowed: {what}, about "
            f"{sa.duration(total)} on this machine (about {per_run:.1f} s a run, measured on "
            f"small runs), and --max-minutes is {args.max_minutes:g}. Give fewer "
            f"--trajectories, a smaller --sobol-n, --size or --days, raise --max-minutes, or "
            f"send the design to a cluster (--launcher submitit_slurm).")


# --- running through a launcher -----------------------------------------------------------------

class Launched:
    """Runs design rows through a Hydra launcher: the rows are written to the study's folder,
    one Hydra multirun (one process) sends them ``per_job`` samples to a job, and each job
    writes its rows whole; a job that did not finish leaves failed rows."""

    def __init__(self, folder: Path, study: sa.Study, launcher: str, per_job: int,
                 hydra_args: list[str]):
        self.folder, self.launcher, self.per_job = folder, launcher, per_job
        self.hydra_args = hydra_args
        given = study.given
        if not any(g.partition("=")[0].lstrip("+") == "threads" for g in given):
            given = (*given, "threads=1")  # a job a core; the tables do not depend on it
        self.study = replace(study, given=given)
        self.jobs = folder / "jobs"
        self.jobs.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(self.study.to_dict(), sort_keys=False)
        write_whole(self.jobs / "study.yaml", lambda tmp: Path(tmp).write_text(text))

    def __call__(self, design: pd.DataFrame) -> pd.DataFrame:
        phase = str(design.phase.iloc[0])
        write_whole(self.jobs / f"{phase}.parquet",
                    lambda tmp: design.to_parquet(tmp, index=False))
        spans = list(sa.chunks(len(design), self.per_job))
        option = LAUNCHERS[self.launcher][0]
        command = [sys.executable, "-m", "sim.sensitivity", "_jobs", "-m",
                   f"hydra/launcher={option}", f"hydra.searchpath=[file://{CONF_DIR}]",
                   f"hydra.sweep.dir='{self.jobs / phase}'", "hydra.job.name=sensitivity",
                   f"folder='{self.folder}'", f"phase={phase}", f"per_job={self.per_job}",
                   f"chunk=range(0,{len(spans)})", *self.hydra_args]
        sys.stderr.write(f"sim.sensitivity: {phase}: {len(spans)} jobs through hydra/launcher="
                         f"{option} ({' '.join(shlex.quote(c) for c in command[3:])})\n")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(sa.__file__).resolve().parents[2]),
             *filter(None, [os.environ.get("PYTHONPATH")])])}
        watch = _Watch(self.jobs / phase, len(spans), phase)
        try:
            done = subprocess.run(command, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        finally:
            watch.stop()
        write_whole(self.jobs / f"{phase}.log", lambda tmp: Path(tmp).write_text(done.stdout))
        parts = []
        for i, (a, b) in enumerate(spans):
            path = self.jobs / phase / f"chunk_{i}.parquet"
            if path.is_file():
                parts.append(pd.read_parquet(path))
            else:
                parts.append(sa.failed_rows(
                    self.study, design.iloc[a:b],
                    f"its job ({phase} {i}) did not finish under hydra/launcher={option} "
                    f"(exit status {done.returncode}); see jobs/{phase}.log"))
        return pd.concat(parts, ignore_index=True)


class _Watch:
    """Counts the jobs' finished files while the launcher runs, on a progress bar."""

    def __init__(self, folder: Path, total: int, phase: str):
        from tqdm import tqdm  # noqa: PLC0415

        self.folder, self.total = folder, total
        self.bar = tqdm(total=total, desc=f"{phase} jobs", unit="job", leave=False,
                        disable=None)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _count(self) -> int:
        return len(list(self.folder.glob("chunk_*.parquet"))) if self.folder.is_dir() else 0

    def _loop(self) -> None:
        while not self.stopped.wait(1.0):
            self.bar.update(self._count() - self.bar.n)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.bar.update(self._count() - self.bar.n)
        self.bar.close()


def _register_job_config() -> None:
    from hydra.core.config_store import ConfigStore  # noqa: PLC0415

    ConfigStore.instance().store(name=JOB_CONFIG, node={
        "folder": "???", "phase": "???", "chunk": 0, "per_job": 1})


def job(cfg) -> None:
    """One launcher job: its share of the phase's design rows, run in its process."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    folder = Path(cfg.folder)
    jobs = folder / "jobs"
    study = sa.Study.from_dict(yaml.safe_load((jobs / "study.yaml").read_text()))
    design = pd.read_parquet(jobs / f"{cfg.phase}.parquet")
    a, b = list(sa.chunks(len(design), int(cfg.per_job)))[int(cfg.chunk)]
    runs = sa.Batch(study).run(design.iloc[a:b], progress=False)
    out = jobs / str(cfg.phase) / f"chunk_{int(cfg.chunk)}.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_whole(out, lambda tmp: runs.to_parquet(tmp, index=False))


def run_jobs(argv: list[str]) -> None:
    """``python -m sim.sensitivity _jobs -m ...``: the Hydra multirun that :class:`Launched`
    starts (not for users)."""
    import hydra  # noqa: PLC0415

    from sim.config.compose import register_all  # noqa: PLC0415

    register_all()
    _register_job_config()
    sys.argv = [sys.argv[0], *argv]
    hydra.main(version_base="1.3", config_path=None, config_name=JOB_CONFIG)(job)()


# --- the command line -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["_jobs"]:
        run_jobs(argv[1:])
        return
    args = parser().parse_intermixed_args(argv)
    started = time.perf_counter()

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)
    if args.analyse is not None:
        analyse_again(Path(args.analyse), args.map)
        return
    try:
        ready = prepare(args, say)
    except UserError as e:
        sys.stderr.write(f"sim.sensitivity: {' '.join(str(e).split())}\n")
        sys.exit(2)
    study = ready.study
    folder = Path(run_dir(args.results, datetime.now().strftime(STAMP), ready.name))
    command = "python -m sim.sensitivity " + " ".join(shlex.quote(a) for a in argv)
    sa.write_text(folder, "study.yaml", sa.study_yaml(study, command, args.trajectories,
                                                      args.sobol_n, ranges=args.ranges))
    pool = None
    if args.launcher != "none":
        runner = Launched(folder, study, args.launcher, args.per_job, ready.hydra_args)
    else:
        pool = sa.Pool(study, args.workers) if args.workers > 1 else sa.Batch(study)
        before: list[tuple[pd.DataFrame, pd.DataFrame]] = []  # earlier phases' design, runs

        def runner(design: pd.DataFrame) -> pd.DataFrame:
            designs = pd.concat([*(d for d, _ in before), design], ignore_index=True)
            sa.write_table(designs, folder, "design")

            def save(part: pd.DataFrame) -> None:  # the runs so far, a minute at a time
                sa.write_table(pd.concat([*(r for _, r in before), part], ignore_index=True),
                               folder, "runs")
            runs = pool.run(design, progress=True, desc=str(design.phase.iloc[0]), save=save)
            before.append((design, runs))
            return runs
    try:
        result = sa.run_study(study, args.trajectories, args.sobol_n, runner,
                              share=args.screen, most=args.most, map_keys=ready.map_keys,
                              on_runs=lambda d, r: sa.write_progress(folder, d, r),
                              tell=lambda line: say(f"sim.sensitivity: {line}"))
    finally:
        if isinstance(pool, sa.Pool):
            pool.close()
    sa.write_text(folder, "study.yaml", sa.study_yaml(study, command, args.trajectories,
                                                      args.sobol_n, result.chosen, args.ranges))
    spent = time.perf_counter() - started
    text = sa.write_result(folder, result, header(study, args, result, command, spent))
    print(text)
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    print(f"written to {folder}/ ({', '.join(files)})")


def analyse_again(folder: Path, map_text: str | None) -> None:
    """``--analyse FOLDER``: the indices, boxes, figures and report again, from the design and
    runs the folder holds (those written so far, if the study was interrupted)."""
    try:
        study, record, design, runs = sa.read_folder(folder)
        map_keys = _map_keys(map_text, study)
    except UserError as e:
        sys.stderr.write(f"sim.sensitivity: {' '.join(str(e).split())}\n")
        sys.exit(2)
    chosen = list(record.get("sobol_parameters") or [])
    result = sa.analyse(study, design, runs, chosen, map_keys)
    args = argparse.Namespace(ranges=record.get("ranges") or "(see study.yaml)",
                              trajectories=record["trajectories"], sobol_n=record["sobol_n"],
                              launcher="none", workers=1)
    text = sa.write_result(folder, result, header(study, args, result, record["command"], None))
    print(text)
    print(f"analysed again in {folder}/")


def header(study: sa.Study, args, result: sa.Result, command: str,
           seconds: float | None) -> str:
    seeds = study.model_seeds
    phases = result.design.phase.value_counts()
    sobol = (f"; Sobol': {args.sobol_n} base samples over {len(result.chosen)} parameters "
             f"({phases.get('sobol', 0)} samples)" if phases.get("sobol", 0) else "")
    return "\n".join([
        command,
        "Sensitivity of the essay's claim: steady against burst, same budget, same seeds.",
        f"{len(study.keys)} ranged parameters (ranges: {args.ranges}); each sample run as "
        f"steady and as burst on {study.size:,} followers for {study.days} days, seed(s) "
        f"{seeds[0]}" + (f"-{seeds[-1]}" if len(seeds) > 1 else "") + f", engine={study.engine}"
        + (f", settings: {' '.join(study.given)}" if study.given else "") + ".",
        f"Morris: {args.trajectories} trajectories ({phases.get('morris', 0)} samples){sobol}; "
        f"{len(result.runs)} pairs of runs"
        + (f" in {_minutes(seconds)}" if seconds is not None else " (analysed again)")
        + (f" through --launcher {args.launcher}" if args.launcher != "none" else "")
        + (f" in {args.workers} worker processes" if args.workers > 1 else "") + "."])


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{math.floor(seconds / 60)} min " \
                                                  f"{seconds % 60:02.0f} s"


if __name__ == "__main__":
    main()
