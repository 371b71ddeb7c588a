"""Sweeps: one outcome table per sweep, failed runs kept as rows, collect and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["audience.size=150", "days=4", "strategy=steady"]


def sim(*args: str, cwd: Path = ROOT, wait: bool = True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_sweep_writes_one_outcome_table(tmp_path):
    sweep = tmp_path / "sweep"
    p = sim("sim", "-m", *SMALL, "seed=0,1", "budget.asks=0,5", f"hydra.sweep.dir={sweep}")
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(sweep / "outcomes.csv")
    assert len(table) == 4 and (table.status == "finished").all()
    assert list(table.columns[:2]) == ["run", "status"]
    assert {"seed", "budget.asks", "audience.size", "days"} <= set(table.columns[2:7])
    assert {"followers_end", "unfollows", "actions", "version"} <= set(table.columns)
    assert sorted(zip(table.seed, table["budget.asks"])) == [(0, 0), (0, 5), (1, 0), (1, 5)]
    pd.testing.assert_frame_equal(pd.read_parquet(sweep / "outcomes.parquet"),
                                  table.convert_dtypes(), check_dtype=False)
    series = pd.read_parquet(sweep / "timeseries.parquet")
    assert len(series) == 4 * 4 * 24 and series.run.nunique() == 4
    assert "4 runs (4 finished)" in p.stdout


def test_a_failed_run_is_a_row_and_the_others_are_kept(tmp_path):
    (tmp_path / "fragile.py").write_text(textwrap.dedent('''
        from sim import Plan, Strategy

        class Fragile(Strategy):
            def plan(self, view):
                if self.asks > 3 and view.hour == 5:
                    raise RuntimeError("breaks at five")
                return Plan()
    '''))
    sweep = tmp_path / "sweep"
    p = sim("sim", "-m", "strategy._target_=fragile.Fragile", "audience.size=100", "days=1",
            "budget.asks=1,9", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    table = pd.read_csv(sweep / "outcomes.csv")
    assert list(table.status) == ["finished", "failed"], p.stderr
    assert table.error.iloc[1] == "RuntimeError: breaks at five"
    assert table.followers_end.notna().iloc[0]


def test_collect_refuses_a_folder_that_is_not_a_sweep(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    p = sim("sim.collect", str(tmp_path))
    assert p.returncode == 2 and "not a sweep folder" in p.stderr
    assert [f.name for f in tmp_path.iterdir()] == ["notes.txt"]
    p = sim("sim.collect", str(tmp_path / "missing"))
    assert p.returncode == 2 and "is not a folder" in p.stderr


def test_a_killed_sweep_is_collected_and_resumed_to_the_same_rows(tmp_path):
    settings = ["audience.size=400", "days=6", "strategy=steady", "seed=0,1,2,3,4,5"]
    whole = tmp_path / "whole"
    assert sim("sim", "-m", *settings, f"hydra.sweep.dir={whole}").returncode == 0

    broken = tmp_path / "broken"
    proc = sim("sim", "-m", *settings, f"hydra.sweep.dir={broken}", wait=False)
    deadline = time.time() + 300
    while len(list(broken.glob("*/outcome.csv"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sim("sim.collect", str(broken)).returncode == 0
    partial = pd.read_csv(broken / "outcomes.csv")
    assert 2 <= (partial.status == "finished").sum() < 6

    assert sim("sim", "-m", *settings, "resume=true", f"hydra.sweep.dir={broken}").returncode == 0
    resumed = pd.read_csv(broken / "outcomes.csv")
    expected = pd.read_csv(whole / "outcomes.csv")
    assert (resumed.status == "finished").all()
    pd.testing.assert_frame_equal(resumed, expected)


EXPERIMENTS = sorted(p.stem for p in (ROOT / "experiments").glob("*.yaml"))


def test_the_named_experiments_are_there_and_compose():
    from sim.config import check, settings

    assert {"steady_vs_burst", "burst_size", "attention", "reciprocity"} <= set(EXPERIMENTS)
    for name in EXPERIMENTS:
        check(settings(f"+experiment={name}"))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_runs_as_a_tiny_sweep(tmp_path, name):
    sweep = tmp_path / name
    p = sim("sim", f"+experiment={name}", "audience.size=40", "days=21", "seed=0",
            f"hydra.sweep.dir={sweep}")
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(sweep / "outcomes.csv")
    assert len(table) > 1 and (table.status == "finished").all()
