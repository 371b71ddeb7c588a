"""The command line as a user meets it: `python -m sim ...` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sim.io.tables import TIMESERIES_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
FAST = ["audience.size=300", "days=3", "strategy.burst_day=1"]
OUTCOME_COLUMNS = ["followers_start", "followers_end", "net_change_pct", "unfollows", "mutes",
                   "engagements", "actions", "posts", "asks", "peak_hourly_unfollows", "seed",
                   "version", "strategy"]


def sim(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)


def test_a_run_writes_its_tables_figure_and_config(tmp_path):
    out = tmp_path / "run"
    p = sim("strategy=burst", *FAST, f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    assert {"timeseries.csv", "outcome.csv", "figure.png", "config.yaml"} <= {
        f.name for f in out.iterdir()}
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns) == TIMESERIES_COLUMNS and len(ts) == 72
    outcome = pd.read_csv(out / "outcome.csv")
    assert len(outcome) == 1 and set(OUTCOME_COLUMNS) <= set(outcome.columns)
    assert outcome.seed.iloc[0] == 0 and outcome.strategy.iloc[0] == "burst"
    assert "followers 300 ->" in p.stdout
    assert (out / "figure.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    days = pd.read_csv(out / "daily.csv")  # the day-by-day account of gains and losses
    assert list(days.day) == [0, 1, 2]
    assert days.unfollows.sum() == ts.unfollows.sum() and days.follows.sum() == ts.follows.sum()
    assert days.followers_end.iloc[-1] == ts.followers.iloc[-1]
    assert (days.followers_start.iloc[1:].to_numpy() == days.followers_end.iloc[:-1]).all()
    assert days.net_change_pct.iloc[1] == 100 * days.net_change.iloc[1] / days.followers_start[1]


def test_the_same_seed_gives_identical_files(tmp_path):
    for name in ("a", "b"):
        assert sim("strategy=burst", *FAST, "seed=11", f"hydra.run.dir={tmp_path / name}").returncode == 0
    for table in ("timeseries.csv", "outcome.csv"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()


def test_the_default_run_dir_is_under_results_runs(tmp_path):
    p = sim("strategy=silent", "audience.size=50", "days=1", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    runs = list((tmp_path / "results" / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.endswith("_silent")


def test_help_explains_the_public_settings():
    p = sim("--help")
    assert p.returncode == 0
    for word in ("strategy=", "engine=", "seed=", "days=", "audience.size=", "burst"):
        assert word in p.stdout


@pytest.mark.parametrize("args, names", [
    (["audience.size=-3"], "audience.size"),
    (["behaviour.engagement.like=2"], "behaviour.engagement.like"),
    (["strategy=burst", "days=5"], "strategy.burst_hours"),
    (["strategy._target_=nowhere.Nothing"], "strategy._target_"),
    (["strategy=nosuch"], "strategy"),
    (["audience.sise=10"], "sise"),
    (["days=lots"], "days"),
])
def test_bad_input_is_one_clear_paragraph_and_no_run_folder(tmp_path, args, names):
    out = tmp_path / "run"
    p = sim(*args, f"hydra.run.dir={out}", cwd=tmp_path)
    assert p.returncode == 2
    assert names in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert p.stderr.startswith("sim: ") and len(p.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_mistyped_setting_is_named_with_what_was_meant(tmp_path):
    p = sim("behaviour.annoyance.gian=2", cwd=tmp_path)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "'behaviour.annoyance.gian' does not exist" in p.stderr
    assert "Did you mean 'behaviour.annoyance.gain'" in p.stderr
    assert "gain, convexity, half_life_days" in p.stderr
    p = sim("strategy=stead", cwd=tmp_path)
    assert "There is no strategy named 'stead'. Allowed: broadcast, burst" in p.stderr
    assert not (tmp_path / "results").exists()


def test_a_bad_setting_keeps_a_folder_that_was_there_before(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    p = sim("audience.size=-3", f"hydra.run.dir={out}")
    assert p.returncode != 0 and "audience.size" in p.stderr
    assert [f.name for f in out.iterdir()] == ["notes.txt"]


def test_a_value_the_sampler_cannot_take_is_refused_too(tmp_path):
    p = sim("audience.interest=1.0", f"hydra.run.dir={tmp_path / 'run'}")
    assert p.returncode != 0 and "0 < value < 1" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "run").exists()


def test_an_unknown_strategy_class_says_why(tmp_path):
    p = sim("strategy._target_=nowhere.Nothing", f"hydra.run.dir={tmp_path / 'run'}")
    assert "No module named 'nowhere'" in p.stderr


def test_a_users_own_strategy_from_their_own_module(tmp_path):
    (tmp_path / "mymodule.py").write_text(textwrap.dedent('''
        from sim import Plan, Strategy

        class NightOwl(Strategy):
            """Posts one value post at 23:00 every day and never asks."""

            def plan(self, view):
                return Plan(value_posts=1 if view.hour_of_day == 23 else 0)
    '''))
    out = tmp_path / "run"
    p = sim("strategy._target_=mymodule.NightOwl", "audience.size=200", "days=2",
            f"hydra.run.dir={out}", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.index[ts.posts > 0]) == [23, 47]
    assert pd.read_csv(out / "outcome.csv").strategy.iloc[0] == "nightowl"
