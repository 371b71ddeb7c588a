"""The command line as a user meets it, ``python -m sim ...``: what a run writes, where, and
what it says. One run goes through a real process end to end; the others run the same command
line in this process (``sim_cli``). Bad input: tests/test_errors.py."""

from __future__ import annotations

import textwrap
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

from sim.apps.cli import count, summary
from sim.io.tables import TIMESERIES_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
FAST = ["audience.size=300", "days=3", "strategy.burst_day=1"]
OUTCOME_COLUMNS = ["followers_start", "followers_end", "net_change_pct", "unfollows", "mutes",
                   "engagements", "actions", "posts", "asks", "peak_hourly_unfollows", "seed",
                   "version", "strategy"]
VERSIONS = {"version": "sim", "mesa_version": "mesa", "numpy_version": "numpy",
            "numba_version": "numba", "pandas_version": "pandas"}


def run_folders(cwd: Path) -> list[Path]:
    runs = cwd / "results" / "runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


@pytest.mark.integration
def test_a_run_writes_its_tables_figure_config_and_log(tmp_path, sim_process):
    """End to end, in a process of its own, as a user's shell runs it."""
    out = tmp_path / "run"
    p = sim_process("strategy=burst", *FAST, f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    assert {"timeseries.csv", "outcome.csv", "figure.png", "config.yaml", "daily.csv",
            "sim.log"} <= {f.name for f in out.iterdir()}
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
    log = (out / "sim.log").read_text()
    for line in p.stdout.strip().splitlines():  # the summary the console showed
        assert line.strip() in log


def test_the_same_seed_gives_identical_files(tmp_path, sim_cli):
    for name in ("a", "b"):
        p = sim_cli("strategy=burst", *FAST, "seed=11", f"hydra.run.dir={tmp_path / name}")
        assert p.returncode == 0, p.stderr
    for table in ("timeseries.csv", "outcome.csv"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()


def test_the_default_run_folder_is_under_results_runs_and_named_for_the_strategy(tmp_path,
                                                                                 sim_cli):
    p = sim_cli("strategy=silent", "audience.size=50", "days=1", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    [folder] = run_folders(tmp_path)
    assert folder.name.endswith("_silent")
    # a scenario is named for itself, not for the class that runs it (Burst)
    p = sim_cli("strategy=obama_2011", "audience.size=50", "days=8", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert any(f.name.endswith("_obama_2011") for f in run_folders(tmp_path))
    scenario = next(f for f in run_folders(tmp_path) if f.name.endswith("_obama_2011"))
    assert pd.read_csv(scenario / "outcome.csv").strategy.iloc[0] == "obama_2011"


def test_two_runs_in_the_same_second_get_folders_of_their_own(tmp_path, sim_cli):
    """The run folder is claimed when it is named: a second run with the same time stamp (here
    fixed, as two runs started in the same second have) gets _2."""
    label = "${sim.strategy_label:${strategy._target_},${hydra:runtime.choices.strategy}}"
    same_second = f"hydra.run.dir='${{sim.run_dir:results/runs,2030-01-01_00-00-00,{label}}}'"
    for _ in range(2):
        p = sim_cli("strategy=steady", "audience.size=50", "days=1", same_second, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
    assert [f.name for f in run_folders(tmp_path)] == ["2030-01-01_00-00-00_steady",
                                                      "2030-01-01_00-00-00_steady_2"]
    for folder in run_folders(tmp_path):
        assert (folder / "outcome.csv").is_file()


def test_the_run_folder_name_is_claimed_at_once(tmp_path):
    from sim.config.compose import run_dir

    first = run_dir(str(tmp_path), "2030-01-01_00-00-00", "steady")
    second = run_dir(str(tmp_path), "2030-01-01_00-00-00", "steady")
    assert Path(first).name == "2030-01-01_00-00-00_steady"
    assert Path(second).name == "2030-01-01_00-00-00_steady_2"
    assert Path(first).is_dir() and Path(second).is_dir()


def test_the_log_holds_the_summary_and_the_outcome_the_versions(tmp_path, sim_cli):
    out = tmp_path / "run"
    p = sim_cli("strategy=steady", "audience.size=100", "days=2", f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    shown = p.stdout.strip().splitlines()
    assert shown and shown[0].startswith("sim ")
    log = (out / "sim.log").read_text()
    for line in shown:
        assert line.strip() in log
    row = pd.read_csv(out / "outcome.csv", dtype=str).iloc[0]
    for column, package in VERSIONS.items():
        assert row[column] == metadata.version(package), column
    import platform

    assert row["python_version"] == platform.python_version()


def test_the_summary_counts_in_good_english():
    assert count(1, "unfollow") == "1 unfollow" and count(2, "unfollow") == "2 unfollows"
    assert count(1, "reply", "replies") == "1 reply"
    assert count(1234, "reply", "replies") == "1,234 replies" and count(0, "mute") == "0 mutes"
    row = pd.Series({"version": "0", "strategy": "steady", "audience": "default", "seed": 0,
                     "days": 1, "followers_start": 100, "followers_end": 100,
                     "net_change_pct": 0.0, "follows": 1, "unfollows": 1, "mutes": 1,
                     "peak_hourly_unfollows": 1, "posts": 1, "asks": 1, "replies_given": 1,
                     "engagements": 1, "actions": 1})
    text = summary(row, Path("out"))
    for one in ("1 follow,", "1 unfollow,", "1 mute ", "peak 1 unfollow in an hour", "1 post ",
                "1 ask)", "1 reply given", "1 engagement,", "1 action on asks"):
        assert one in text, one
    assert "1 unfollows" not in text and "1 follows" not in text


def test_help_explains_the_public_settings(sim_cli):
    p = sim_cli("--help")
    assert p.returncode == 0
    for word in ("strategy=", "engine=", "seed=", "days=", "audience.size=", "burst"):
        assert word in p.stdout


def test_a_users_own_strategy_from_their_own_module(tmp_path, sim_cli):
    (tmp_path / "mymodule.py").write_text(textwrap.dedent('''
        from sim import Plan, Strategy

        class NightOwl(Strategy):
            """Posts one value post at 23:00 every day and never asks."""

            def plan(self, view):
                return Plan(value_posts=1 if view.hour_of_day == 23 else 0)
    '''))
    p = sim_cli("strategy._target_=mymodule.NightOwl", "audience.size=200", "days=2",
                cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    [out] = run_folders(tmp_path)
    assert out.name.endswith("_NightOwl")  # a user's class is named by its class name
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.index[ts.posts > 0]) == [23, 47]
    assert pd.read_csv(out / "outcome.csv").strategy.iloc[0] == "NightOwl"


def test_python_m_sim_app_help_is_our_own_usage(sim_cli):
    pytest.importorskip("solara")
    p = sim_cli("--help", module="sim.app")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: python -m sim.app")
    assert "classroom" in p.stdout and "solara run" in p.stdout
    assert "Usage: solara" not in p.stdout  # not solara's own


def test_python_m_sim_tournament_help_is_complete(sim_cli):
    """The help says what an entry is, what the settings do, what disqualifies an entry, what
    is written and where to start, as the module's description does."""
    p = sim_cli("--help", module="sim.tournament")
    assert p.returncode == 0, p.stderr
    text = " ".join(p.stdout.split())
    for word in ("--seeds", "--out", "--time-limit", ".py file", "folder", "built-in",
                 "mymodule.MyStrategy", "audience.size=1000", "disqualified", "standings.csv",
                 "runs.csv", "report.txt", "standings.png", "strategy_template.py"):
        assert word in text, word
