"""Bad input is said in one paragraph on stderr that starts with ``sim:``, with exit status 2,
no traceback and no run folder left behind; a user's own strategy is held to the same. Also
what sim must not do when imported: load Hydra for ``from sim import Strategy``, let the rules
import more than math and numpy, switch matplotlib's backend.

Most command lines run in this process (``sim_cli``); two go through a real process, to prove
the exit status and the absence of a traceback as a shell sees them.
"""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_folders(cwd: Path) -> list[Path]:
    runs = cwd / "results" / "runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


def assert_refused(p, *says: str) -> None:
    """One paragraph on stderr starting ``sim:``, status 2, no traceback, nothing on stdout."""
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith("sim: "), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    for text in says:
        assert text in p.stderr, (text, p.stderr)


REFUSED = [
    (["+audience.sise=5"], ["Setting 'audience.sise' does not exist",
                            "Did you mean 'audience.size'?"]),
    (["audience.sise=10"], ["'audience.sise' does not exist"]),
    (["strategy=steady", "+strategy.burst_day=10"],
     ["'strategy.burst_day' belongs to strategy=burst; strategy=steady has no such setting"]),
    (["strategy=steady", "strategy.burst_day=10"],
     ["'strategy.burst_day' belongs to strategy=burst", "has no such setting"]),
    (["strategy._target_=sim.strategies.Nope"], ["there is no module named 'sim.strategies'"]),
    (["strategy._target_=sim.model.strategies.Bursty"],
     ["has no class Bursty", "did you mean sim.model.strategies.Burst?"]),
    (["strategy._target_=nowhere.Nothing"],
     ["'strategy._target_' = 'nowhere.Nothing'", "no module named 'nowhere'"]),
    (["strategy._target_=collections.OrderedDict"], ["not a subclass of sim.Strategy"]),
    (["strategy=burst", "strategy.burst_day=12", "days=10"],
     ["Setting 'strategy.burst_day' = 12 is not allowed", "0 <= value <= 9"]),
    (["strategy=burst", "strategy.burst_hours=100", "days=5"],
     ["Setting 'strategy.burst_hours' = 100 is not allowed"]),
    (["audience.size=-3"], ["'audience.size' = -3", "1 <= value"]),
    (["behaviour.engagement.like=2"], ["'behaviour.engagement.like'"]),
    (["audience.interest=1.0"], ["'audience.interest'", "0 < value < 1"]),
    (["strategy=nosuch"], ["There is no strategy named 'nosuch'"]),
    (["strategy=stead"], ["There is no strategy named 'stead'. Allowed: broadcast, burst"]),
    (["days=lots"], ["'days'"]),
    (["behaviour.annoyance.gian=2"], ["'behaviour.annoyance.gian' does not exist",
                                      "Did you mean 'behaviour.annoyance.gain'",
                                      "gain, saturation, half_life_hours"]),
]


@pytest.mark.parametrize("args, says", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_bad_input_is_one_paragraph_and_leaves_no_folder(tmp_path, sim_cli, args, says):
    p = sim_cli(*args, cwd=tmp_path)
    assert_refused(p, *says)
    assert "is not a package" not in p.stderr  # Python's words for a missing module's parent
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("args", [["+audience.sise=5"], ["strategy=steady", "strategy.burst_day=1"],
                                  ["strategy._target_=sim.strategies.Nope"], ["days=lots"],
                                  ["strategy=burst", "strategy.burst_day=12", "days=10"]])
def test_a_run_folder_given_by_hand_is_not_left_either(tmp_path, sim_cli, args):
    out = tmp_path / "run"
    assert_refused(sim_cli(*args, f"hydra.run.dir={out}", cwd=tmp_path))
    assert not out.exists()


def test_a_bad_setting_keeps_a_folder_that_was_there_before(tmp_path, sim_cli):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    p = sim_cli("audience.size=-3", f"hydra.run.dir={out}")
    assert_refused(p, "audience.size")
    assert [f.name for f in out.iterdir()] == ["notes.txt"]


@pytest.mark.integration
def test_a_refused_setting_in_a_real_process(tmp_path, sim_process):
    p = sim_process("+audience.sise=5", cwd=tmp_path)
    assert_refused(p, "'audience.sise' does not exist")
    assert not (tmp_path / "results").exists()


# --- a user's own strategy ----------------------------------------------------------------------

RAISES = '''
from sim import Plan, Strategy


class Fragile(Strategy):
    def plan(self, view):
        if view.hour == 5:
            return {"asks": 1}["value_posts"]
        return Plan()
'''

GREEDY = '''
from sim import Plan, Strategy


class _Greedy(Strategy):
    """Three asks every hour, whatever the budget."""

    def plan(self, view):
        return Plan(asks=3)
'''


def test_a_strategy_that_raises_names_the_users_file_and_line(tmp_path, sim_cli):
    (tmp_path / "fragile.py").write_text(RAISES)
    p = sim_cli("strategy._target_=fragile.Fragile", "audience.size=50", "days=1", cwd=tmp_path)
    assert_refused(p, "KeyError", "fragile.py, line 8")
    assert run_folders(tmp_path) == []


@pytest.mark.integration
def test_a_strategy_that_raises_in_a_real_process(tmp_path, sim_process):
    (tmp_path / "fragile.py").write_text(RAISES)
    p = sim_process("strategy._target_=fragile.Fragile", "audience.size=50", "days=1",
                    cwd=tmp_path)
    assert_refused(p, "KeyError", "fragile.py, line 8")
    assert run_folders(tmp_path) == []


def test_a_strategy_that_overspends_runs_with_a_one_line_warning(tmp_path, sim_cli):
    (tmp_path / "greedy.py").write_text(GREEDY)
    p = sim_cli("strategy._target_=greedy._Greedy", "audience.size=50", "days=1", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    warnings = [line for line in (p.stdout + p.stderr).splitlines()
                if line.startswith("warning:")]
    assert len(warnings) == 1, p.stdout + p.stderr
    assert warnings[0].startswith("warning: the strategy overspent its budget")
    [folder] = run_folders(tmp_path)
    assert folder.name.endswith("_Greedy")  # named by the class that ran
    log = (folder / "sim.log").read_text()
    assert sum("warning: the strategy overspent its budget" in x for x in log.splitlines()) == 1
    assert pd.read_csv(folder / "outcome.csv").asks.iloc[0] == 72


# --- a burst and the run's length -----------------------------------------------------------

def test_a_burst_is_placed_relative_to_the_runs_length(tmp_path, sim_cli):
    out = tmp_path / "run"
    p = sim_cli("strategy=burst", "days=10", "audience.size=100", f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    ts = pd.read_csv(out / "timeseries.csv")
    days_with_asks = sorted(set(ts.day[ts.asks > 0]))
    assert days_with_asks == [6]  # two thirds into 10 days
    assert "burst_day: 6" in (out / "config.yaml").read_text()


def test_a_sweep_passes_a_burst_setting_to_burst_and_steady_ignores_it(tmp_path, sim_cli):
    sweep = tmp_path / "sweep"
    p = sim_cli("-m", "strategy=steady,burst", "strategy.burst_day=10", "audience.size=50",
                "days=12", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(sweep / "outcomes.csv").set_index("strategy")
    assert (table.status == "finished").all() and set(table.index) == {"steady", "burst"}
    burst = pd.read_csv(sweep / str(table.loc["burst", "run"]) / "timeseries.csv")
    assert sorted(set(burst.day[burst.asks > 0])) == [10]
    from sim.config.compose import settings
    from sim.experiment.run import simulate

    alone = simulate(settings("strategy=steady", "audience.size=50", "days=12")).outcome.iloc[0]
    for column in ("followers_end", "posts", "asks", "unfollows", "engagements", "actions"):
        assert table.loc["steady", column] == alone[column], column


def test_a_sweep_where_no_strategy_has_the_setting_is_refused_without_a_folder(tmp_path,
                                                                                sim_cli):
    p = sim_cli("-m", "strategy=steady,silent", "strategy.burst_day=10", cwd=tmp_path)
    assert_refused(p, "'strategy.burst_day' belongs to strategy=burst")
    assert not (tmp_path / "results").exists()


# --- what importing sim must not do -------------------------------------------------------------

@pytest.mark.integration
def test_the_strategy_api_loads_neither_hydra_nor_mesa(sim_process):
    code = ("import sys, json; from sim import Strategy, Plan, AccountView; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    p = sim_process("-c", code, module=None)
    loaded = set(json.loads(p.stdout))
    assert "sim" in loaded
    assert not loaded & {"hydra", "omegaconf", "mesa"}, loaded & {"hydra", "omegaconf", "mesa"}


ALLOWED_IN_RULES = {"math", "numpy", "typing", "dataclasses", "__future__"}


def test_the_rules_import_only_math_and_numpy():
    tree = ast.parse((ROOT / "sim" / "model" / "rules.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "the rules import nothing of sim (relative import)"
            imported.add(node.module.split(".")[0])
    assert imported <= ALLOWED_IN_RULES, imported - ALLOWED_IN_RULES
    calls = {node.func.id for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert "__import__" not in calls


MATPLOTLIB_PROBE = textwrap.dedent('''
    import importlib, json, pkgutil, sys
    import matplotlib
    calls = []
    real_use = matplotlib.use
    matplotlib.use = lambda *a, **k: (calls.append(repr(a)), real_use(*a, **k))
    before = dict.__getitem__(matplotlib.rcParams, "backend")
    import sim
    names = sorted(m.name for m in pkgutil.walk_packages(sim.__path__, "sim."))
    for name in names:
        importlib.import_module(name)
    after = dict.__getitem__(matplotlib.rcParams, "backend")
    print(json.dumps({"modules": names, "calls": calls, "before": str(before),
                      "after": str(after), "pyplot": "matplotlib.pyplot" in sys.modules}))
''')


@pytest.mark.integration
def test_importing_sim_leaves_matplotlibs_backend_alone(sim_process):
    p = sim_process("-c", MATPLOTLIB_PROBE, module=None, env={"MPLBACKEND": None})
    assert p.returncode == 0, p.stderr
    seen = json.loads(p.stdout.strip().splitlines()[-1])
    assert "sim.apps.cli" in seen["modules"] and "sim.model.rules" in seen["modules"]
    assert seen["calls"] == []
    assert seen["after"] == seen["before"]
