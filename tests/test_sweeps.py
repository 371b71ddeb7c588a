"""Sweeps: one outcome table per sweep, failed runs kept as rows, collect and resume.

The sweeps run in this process (``sim_cli``, Hydra's basic launcher runs one run after
another); only the sweep that is killed half-way needs a process of its own."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["audience.size=150", "days=4", "strategy=steady"]


def test_a_sweep_writes_one_outcome_table(tmp_path, sim_cli):
    sweep = tmp_path / "sweep"
    p = sim_cli("-m", *SMALL, "seed=0,1", "budget.asks=0,5", f"hydra.sweep.dir={sweep}")
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


def test_a_failed_run_is_a_row_and_the_others_are_kept(tmp_path, sim_cli):
    (tmp_path / "fragile.py").write_text(textwrap.dedent('''
        from sim import Plan, Strategy

        class Fragile(Strategy):
            def plan(self, view):
                if self.asks > 3 and view.hour == 5:
                    raise RuntimeError("breaks at five")
                return Plan()
    '''))
    sweep = tmp_path / "sweep"
    p = sim_cli("-m", "strategy._target_=fragile.Fragile", "audience.size=100", "days=1",
                "budget.asks=1,9", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    table = pd.read_csv(sweep / "outcomes.csv")
    assert list(table.status) == ["finished", "failed"], p.stderr
    assert table.error.iloc[1] == "RuntimeError: breaks at five"
    assert table.followers_end.notna().iloc[0]


def test_collect_refuses_a_folder_that_is_not_a_sweep(tmp_path, sim_cli):
    (tmp_path / "notes.txt").write_text("x")
    p = sim_cli(str(tmp_path), module="sim.collect")
    assert p.returncode == 2 and "not a sweep folder" in p.stderr
    assert [f.name for f in tmp_path.iterdir()] == ["notes.txt"]
    p = sim_cli(str(tmp_path / "missing"), module="sim.collect")
    assert p.returncode == 2 and "is not a folder" in p.stderr


@pytest.mark.integration
def test_a_killed_sweep_is_collected_and_resumed_to_the_same_rows(tmp_path, sim_cli,
                                                                  sim_process):
    settings = ["audience.size=100", "days=2", "strategy=steady", "seed=0,1,2,3,4"]
    whole = tmp_path / "whole"
    assert sim_cli("-m", *settings, f"hydra.sweep.dir={whole}").returncode == 0

    broken = tmp_path / "broken"
    proc = sim_process("-m", *settings, f"hydra.sweep.dir={broken}", wait=False)
    deadline = time.time() + 300
    while len(list(broken.glob("*/outcome.csv"))) < 2 and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sim_cli(str(broken), module="sim.collect").returncode == 0
    partial = pd.read_csv(broken / "outcomes.csv")
    assert 2 <= (partial.status == "finished").sum() < 5

    p = sim_cli("-m", *settings, "resume=true", f"hydra.sweep.dir={broken}")
    assert p.returncode == 0, p.stderr
    resumed = pd.read_csv(broken / "outcomes.csv")
    expected = pd.read_csv(whole / "outcomes.csv")
    assert (resumed.status == "finished").all()
    pd.testing.assert_frame_equal(resumed, expected)


EXPERIMENTS = sorted(p.stem for p in (ROOT / "experiments").glob("*.yaml"))


def test_the_named_experiments_are_there_and_compose():
    from sim.config.checks import check
    from sim.config.compose import settings

    assert {"steady_vs_burst", "burst_size", "attention", "reciprocity"} <= set(EXPERIMENTS)
    for name in EXPERIMENTS:
        check(settings(f"+experiment={name}"))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_runs_as_a_tiny_sweep(tmp_path, sim_cli, name):
    sweep = tmp_path / name
    p = sim_cli(f"+experiment={name}", "audience.size=40", "days=21", "seed=0",
                f"hydra.sweep.dir={sweep}")
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(sweep / "outcomes.csv")
    assert len(table) > 1 and (table.status == "finished").all()


# --- the sweep as a whole: its folder, its progress, bad input refused up front ---------------

def test_an_ad_hoc_sweep_is_named_for_the_settings_it_sweeps(tmp_path, sim_cli):
    p = sim_cli("-m", "strategy=steady,broadcast", "seed=0,1", "audience.size=100", "days=1",
                cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    [folder] = (tmp_path / "results" / "sweeps").iterdir()
    assert folder.name.endswith("_strategy-seed")
    assert sorted(f.name for f in folder.iterdir() if f.name.isdigit()) == ["0", "1", "2", "3"]
    assert len(pd.read_csv(folder / "outcomes.csv")) == 4
    # progress after every run, with an estimate of the time left while runs remain
    lines = [x for x in p.stderr.splitlines() if x.startswith("sim sweep:")]
    assert any(" runs done, 0 failed, " in x and "left, about" in x and "to go" in x
               for x in lines), lines
    assert "4 of 4 runs done, 0 failed, 0 left" in lines[-1]
    assert sum("4 of 4" in x for x in lines) == 1


def test_the_folder_name_lists_only_swept_settings():
    from sim.config.compose import sweep_name as name

    assert name(["strategy=steady,burst", "audience.size=100", "seed=range(0,3)"]) \
        == "strategy-seed"
    assert name(["days=3"]) == "sweep"


def test_progress_counts_done_failed_and_left_and_estimates_the_rest(tmp_path):
    from sim.experiment.sweep import Progress

    for run, state in enumerate(["outcome.csv", "outcome.csv", "error.txt", None, None]):
        (tmp_path / str(run) / ".hydra").mkdir(parents=True)
        (tmp_path / str(run) / ".hydra" / "overrides.yaml").write_text("[]")
        if state:
            (tmp_path / str(run) / state).write_text("x")
    progress = Progress(tmp_path, total=6, started=1000.0, done_before=1)
    # 2 runs ran in 60 s (one finished before the sweep resumed): 30 s each, 3 left
    assert progress.line(now=1060.0) == ("sweep: 2 of 6 runs done, 1 failed, 3 left, "
                                         "about 1 min 30 s to go (1 min 00 s so far)")


@pytest.mark.parametrize("args, says", [
    (["audience.sizee=100,200"], "Setting 'audience.sizee' does not exist. Did you mean "
                                 "'audience.size'?"),
    (["strategy=steady,stedy"], "Run strategy=stedy: There is no strategy named 'stedy'"),
    (["seed=range(0,0)"], "The sweep has no runs"),
    (["audience.size=100,-5"], "Run audience.size=-5: Setting 'audience.size' = -5 is not "
                               "allowed. Allowed: 1 <= value."),
    (["seed=0,x"], "Setting 'seed' = 'x' is not allowed"),
    (["+seedx=1,2"], "Setting 'seedx' does not exist. Did you mean 'seed'?"),
    (["strategy.burst_day=1,2"], "'strategy.burst_day' belongs to strategy=burst"),
    (["strategy=steady,burst", "strategy.burst_day=5", "days=2"],
     "Setting 'strategy.burst_day' = 5 is not allowed"),
    (["strategy=steady,burst", "strategy.burst_hours=100", "days=2"],
     "Setting 'strategy.burst_hours' = 100 is not allowed"),
])
def test_a_sweep_that_cannot_run_whole_is_refused_before_any_folder(tmp_path, sim_cli, args,
                                                                     says):
    p = sim_cli("-m", *args, cwd=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert says in p.stderr, p.stderr
    assert p.stderr.startswith("sim: ") and len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr + p.stdout
    assert not (tmp_path / "results").exists()


def test_a_sweep_into_a_used_folder_is_refused_unless_it_resumes_the_same_sweep(tmp_path,
                                                                               sim_cli):
    sweep, small = tmp_path / "s", ["audience.size=100", "days=1", "strategy=steady"]
    assert sim_cli("-m", *small, "seed=0,1", f"hydra.sweep.dir={sweep}").returncode == 0
    before = (sweep / "outcomes.csv").read_text()
    p = sim_cli("-m", *small, "seed=5", f"hydra.sweep.dir={sweep}")
    assert p.returncode == 2 and "already holds 2 runs" in p.stderr
    p = sim_cli("-m", *small, "seed=0,2", "resume=true", f"hydra.sweep.dir={sweep}")
    assert p.returncode == 2 and "run 1 in" in p.stderr and "seed=1" in p.stderr
    assert (sweep / "outcomes.csv").read_text() == before


def test_a_refused_sweep_leaves_an_existing_sweep_folder_alone(tmp_path, sim_cli):
    sweep = tmp_path / "mine"
    sweep.mkdir()
    (sweep / "notes.txt").write_text("keep me")
    p = sim_cli("-m", "audience.size=100,-5", f"hydra.sweep.dir={sweep}")
    assert p.returncode == 2
    assert [f.name for f in sweep.iterdir()] == ["notes.txt"]
