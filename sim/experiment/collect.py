"""A sweep's outcome table: one row per run, rebuilt from the run folders.

Hydra's multirun writes one folder per run under the sweep folder. This module reads them
all and writes, whole, ``outcomes.csv`` and ``outcomes.parquet`` (one row per run: run
number, status, the swept settings, and every column of the run's ``outcome.csv``) and
``timeseries.parquet`` (long format: run number and every hourly measure). It runs at the end
of every sweep, and by hand after a crash or a kill::

    python -m sim.collect results/sweeps/<sweep folder>
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import yaml

from sim.errors import CollectError
from sim.io.files import write_csv, write_whole

FINISHED, FAILED, UNFINISHED = "finished", "failed", "unfinished"
ERROR_FILE = "error.txt"
NOT_SETTINGS = {"resume"}  # how a sweep is run, not what it varies


def run_folders(sweep: Path) -> list[Path]:
    """The run folders of a sweep: those Hydra recorded overrides for, in run order."""
    folders = [p.parent.parent for p in sweep.glob("*/.hydra/overrides.yaml")]
    return sorted(folders, key=lambda p: (not p.name.isdigit(),
                                          int(p.name) if p.name.isdigit() else 0, p.name))


def recorded_overrides(folder: Path) -> list[str]:
    """The run's command-line settings as Hydra recorded them (key=value strings)."""
    return [str(o) for o in yaml.safe_load((folder / ".hydra" / "overrides.yaml").read_text())
            or []]


def swept_settings(folder: Path) -> dict:
    """The run's command-line settings (key=value) as Hydra recorded them, values typed."""
    settings = {}
    for item in recorded_overrides(folder):
        key, _, value = str(item).partition("=")
        key = key.lstrip("+~")
        if key not in NOT_SETTINGS:
            settings[key] = yaml.safe_load(value) if value else value
    return settings


def status(folder: Path) -> str:
    if (folder / "outcome.csv").is_file():
        return FINISHED
    return FAILED if (folder / ERROR_FILE).is_file() else UNFINISHED


class Run(NamedTuple):
    """One run folder of a sweep, read once."""

    folder: Path
    id: int | str  # the folder's name: Hydra's job number
    settings: dict  # its command-line settings, typed
    config: dict  # its composed settings (.hydra/config.yaml)
    status: str


def runs(sweep: Path) -> list[Run]:
    """Every run of a sweep folder, in run order; a :class:`CollectError` if it has none."""
    sweep = Path(sweep)
    if not sweep.is_dir():
        raise CollectError(f"'{sweep}' is not a folder. Give the folder of a sweep, e.g. "
                           f"results/sweeps/<time>_<name>/.")
    if not (sweep / "multirun.yaml").is_file():
        raise CollectError(f"'{sweep}' is not a sweep folder (it has no multirun.yaml, which "
                           f"Hydra writes for python -m sim -m ...). Give the folder of a sweep, "
                           f"e.g. results/sweeps/<time>_<name>/.")
    folders = run_folders(sweep)
    if not folders:
        raise CollectError(f"'{sweep}' holds no runs (no <run>/.hydra/overrides.yaml). Give the "
                           f"folder of a sweep made with python -m sim -m ..., e.g. "
                           f"results/sweeps/<time>_<name>/.")
    return [Run(folder, int(folder.name) if folder.name.isdigit() else folder.name,
                swept_settings(folder),
                yaml.safe_load((folder / ".hydra" / "config.yaml").read_text()) or {},
                status(folder))
            for folder in folders]


def collect(sweep: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(outcomes, timeseries) of a sweep folder; a :class:`CollectError` if it has no runs."""
    return tables(runs(sweep))


def tables(found: list[Run]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(outcomes, timeseries) of runs already read."""
    rows, series, swept_keys = [], [], []
    for run in found:
        swept_keys += [k for k in run.settings if k not in swept_keys]
        row = {"run": run.id, "status": run.status, **run.settings,
               "seed": run.config.get("seed")}
        if run.status == FINISHED:
            outcome = pd.read_csv(run.folder / "outcome.csv").iloc[0].to_dict()
            row.update({k: v for k, v in outcome.items() if k not in run.settings})
            ts = pd.read_csv(run.folder / "timeseries.csv")
            series.append(ts.assign(run=run.id))
        elif run.status == FAILED:
            row["error"] = (run.folder / ERROR_FILE).read_text().strip().splitlines()[0]
        rows.append(row)
    outcomes = pd.DataFrame(rows).convert_dtypes()  # whole numbers stay whole beside gaps
    first = ["run", "status", *swept_keys, *(["seed"] if "seed" not in swept_keys else [])]
    outcomes = outcomes[first + [c for c in outcomes.columns if c not in first]]
    timeseries = pd.concat(series, ignore_index=True) if series else pd.DataFrame()
    if len(timeseries):
        timeseries = timeseries[["run"] + [c for c in timeseries.columns if c != "run"]]
    return outcomes, timeseries


def write(sweep: Path) -> pd.DataFrame:
    """Collect a sweep and write its tables whole; returns the outcome table."""
    sweep = Path(sweep)
    outcomes, timeseries = collect(sweep)
    write_csv(outcomes, sweep / "outcomes.csv")
    write_whole(sweep / "outcomes.parquet", lambda tmp: outcomes.to_parquet(tmp, index=False))
    if len(timeseries):
        write_whole(sweep / "timeseries.parquet",
                    lambda tmp: timeseries.to_parquet(tmp, index=False))
    return outcomes


def summary(outcomes: pd.DataFrame, sweep: Path) -> str:
    counts = outcomes.status.value_counts()
    parts = [f"{counts.get(s, 0)} {s}" for s in (FINISHED, FAILED, UNFINISHED) if counts.get(s, 0)]
    series = ", timeseries.parquet" if counts.get(FINISHED, 0) else " (no run finished: no time series)"
    return (f"sweep {sweep}: {len(outcomes)} runs ({', '.join(parts)}); "
            f"wrote outcomes.csv, outcomes.parquet{series}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[0] + "\n\nusage: python -m sim.collect SWEEP_FOLDER")
        sys.exit(0 if args and args[0] in ("-h", "--help") else 2)
    try:
        outcomes = write(Path(args[0]))
    except CollectError as e:
        sys.stderr.write(f"sim.collect: {e}\n")
        sys.exit(2)
    print(summary(outcomes, Path(args[0])))


if __name__ == "__main__":
    main()
