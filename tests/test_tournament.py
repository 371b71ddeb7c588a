"""python -m sim.tournament: every entry on the same seeds and budget, ranked; broken entries
disqualified without stopping the others. The tournament runs in this process (``sim_cli``):
its time limit is a timer signal, which a test in the main thread can take."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sim.apps.tournament import Entry, standings

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["audience.size=300", "days=6", "--seeds", "2"]  # burst moves into the 6 days


def write(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(textwrap.dedent(body))


def test_a_class_tournament_ranks_entries_and_disqualifies_the_broken(tmp_path, sim_cli):
    entries = tmp_path / "entries"
    entries.mkdir()
    shutil.copy(ROOT / "experiments" / "strategy_template.py", entries / "ada.py")
    write(entries, "bob.py", """
        from sim import Plan, Strategy
        class Spammer(Strategy):
            def plan(self, view):
                return Plan(asks=3)
    """)
    write(entries, "carol.py", """
        from sim import Plan, Strategy
        class Crash(Strategy):
            def plan(self, view):
                if view.hour == 30:
                    raise ValueError("oops")
                return Plan()
    """)
    write(entries, "dave.py", "import no_such_module\n")
    write(entries, "erin.py", """
        import sys, time
        from sim import Plan, Strategy
        class Quitter(Strategy):
            def plan(self, view):
                sys.exit(3)
    """)
    write(entries, "finn.py", """
        import time
        from sim import Plan, Strategy
        class Sleeper(Strategy):
            def plan(self, view):
                time.sleep(60)
                return Plan()
    """)
    write(entries, "gus.py", """
        from sim import Plan, Strategy
        class Count(int):
            def __add__(self, other):
                return 0
        class Sneaky(Strategy):
            def plan(self, view):
                return Plan(value_posts=Count(20), asks=0, replies=0)
    """)
    out = tmp_path / "out"
    p = sim_cli(str(entries), "steady", "burst", *SMALL, "--out", str(out), "--time-limit", "5",
                module="sim.tournament", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(out / "standings.csv")
    ranked = table[table.status == "ranked"]
    assert set(ranked.entry) == {"ada", "steady", "burst"}  # a student's entry is their file
    assert list(ranked["rank"]) == [1, 2, 3]
    reasons = table.set_index("entry").reason
    assert reasons["bob"].startswith("overspent on seed 0")
    assert "ValueError: oops (carol.py, line" in reasons["carol"]
    assert "No module named 'no_such_module'" in reasons["dave"]
    assert "SystemExit: 3" in reasons["erin"]
    assert "took longer than 5 s" in reasons["finn"]
    assert reasons["gus"].startswith("overspent")  # counted as posted, not as it claims
    runs = pd.read_csv(out / "runs.csv")
    assert runs.groupby("entry").seed.apply(sorted).map(tuple).nunique() == 1  # same seeds
    assert (runs.asks <= 10).all()
    assert (out / "standings.png").read_bytes()[:4] == b"\x89PNG"
    assert "disqualified: carol" in p.stdout and "rank" in p.stdout


def test_ranks_go_by_the_mean_rank_over_the_criteria():
    runs = pd.DataFrame([
        {"entry": "a", "seed": s, "net_change_pct": 1.0, "actions": 10, "engagements": 5}
        for s in range(3)] + [
        {"entry": "b", "seed": s, "net_change_pct": 2.0, "actions": 20 + s, "engagements": 9}
        for s in range(3)])
    table = standings([Entry("a", None), Entry("b", None), Entry("c", None, "broken")], runs)
    assert list(table.entry) == ["b", "a", "c"]
    assert list(table.status) == ["ranked", "ranked", "disqualified"]
    assert table.set_index("entry").loc["b", "rank_actions"] == 1


@pytest.mark.parametrize("args, says", [
    (["nowhere.py"], "'nowhere.py' does not exist"),
    (["stedy"], "'stedy' is not an entry"),
    (["steady", "audience.size=-1"], "'audience.size' = -1 is not allowed"),
    (["steady", "audience.sise=10"], "Did you mean 'audience.size'"),
    (["empty"], "holds no .py files"),
])
def test_bad_input_is_one_paragraph_and_writes_nothing(tmp_path, sim_cli, args, says):
    (tmp_path / "empty").mkdir()
    p = sim_cli(*args, module="sim.tournament", cwd=tmp_path)
    assert p.returncode == 2 and says in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "results").exists()
