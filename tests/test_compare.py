"""python -m sim.compare: means with intervals per strategy and setting, differences, figures.
The sweeps and the command line run in this process (``sim_cli``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiment.compare import Sweep, differences, grouping, interval, summarise

ROOT = Path(__file__).resolve().parents[1]


def fake(name: str, rows: list[dict], swept: list[str]) -> Sweep:
    runs = pd.DataFrame(rows)
    runs.insert(0, "sweep", name)
    runs.insert(1, "run", range(len(runs)))
    return Sweep(Path(name), swept, runs, pd.DataFrame())


def test_the_interval_is_students_t_across_seeds():
    mean, low, high = interval(np.array([1.0, 2.0, 3.0, 4.0]))
    half = stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert mean == 2.5 and low == pytest.approx(2.5 - half) and high == pytest.approx(2.5 + half)
    assert np.isnan(interval(np.array([5.0]))[1])  # one seed gives no interval


def test_differences_are_paired_by_seed_when_both_strategies_ran_the_same_seeds():
    rng = np.random.default_rng(1)
    level = rng.normal(0, 10, 8)  # seeds differ a lot; the strategies differ by 1 on each seed
    rows = ([{"strategy": "a", "seed": s, "unfollows": level[s] + 1.0 + 0.01 * rng.normal()}
             for s in range(8)] +
            [{"strategy": "b", "seed": s, "unfollows": level[s]} for s in range(8)])
    table = pd.DataFrame(rows)
    [d] = differences(table, ["strategy"], ["unfollows"]).to_dict("records")
    assert d["strategy"] == "a" and d["minus"] == "b" and d["paired_by_seed"]
    assert d["difference"] == pytest.approx(1.0, abs=0.02)
    assert 0.9 < d["ci_low"] < d["ci_high"] < 1.1  # unpaired, the interval would span 0
    [u] = differences(table.assign(seed=range(16)), ["strategy"], ["unfollows"]).to_dict("records")
    assert not u["paired_by_seed"] and u["ci_low"] < 0 < u["ci_high"]


def test_groups_are_the_strategy_and_each_setting_not_fixed_by_another():
    rows = [{"strategy": s, "seed": seed, "budget.asks": asks, "strategy.asks": asks,
             "strategy.quiet_share": 1.0 if s == "burst" else np.nan, "days": 30,
             "unfollows": float(asks + seed)}
            for s in ("steady", "burst") for asks in (5, 10) for seed in range(3)]
    keys, notes = grouping([fake("one", rows, ["strategy", "budget.asks", "seed"])])
    assert keys == ["strategy", "budget.asks"] and notes == []
    summary = summarise(pd.DataFrame(rows), keys, ["unfollows"])
    assert len(summary) == 4 and set(summary.runs) == {3}
    assert summary.set_index(["strategy", "budget.asks"]).loc[("burst", 10), "mean"] == 11.0


def test_mismatched_sweeps_are_explained_not_crashed_on():
    a = fake("A", [{"strategy": s, "seed": seed, "audience.size": 300, "days": 30,
                    "unfollows": 1.0} for s in ("steady", "burst") for seed in range(2)],
             ["strategy", "seed"])
    b = fake("B", [{"strategy": s, "seed": seed, "audience.size": size, "days": 10,
                    "unfollows": 2.0} for s in ("steady", "burst") for size in (100, 200)
                   for seed in range(2)], ["strategy", "audience.size", "seed"])
    keys, notes = grouping([a, b])
    assert keys == ["strategy", "audience.size"]  # days adds no group: it goes with the size
    text = " ".join(notes)
    assert "A sweeps strategy; B sweeps strategy, audience.size" in text
    assert "A does not sweep audience.size; its runs have audience.size=300" in text
    assert ("The sweeps also differ in days, which none of them sweeps (A: 30; B: 10); it goes "
            "together with audience.size") in text
    b.runs["audience.size"] = 300  # now days is what separates the sweeps: it becomes a group
    keys, notes = grouping([a, b])
    assert keys == ["strategy", "days"] and "runs are grouped by it as well" in " ".join(notes)


@pytest.fixture(scope="module")
def two_sweeps(tmp_path_factory, sim_cli):
    top = tmp_path_factory.mktemp("sweeps")
    small = ["audience.size=150", "days=2"]
    for name, extra in (("A", ["audience.size=150,250"]), ("B", ["days=3"])):
        p = sim_cli("-m", "strategy=steady,broadcast", "seed=0,1", *small, *extra,
                    f"hydra.sweep.dir={top / name}")
        assert p.returncode == 0, p.stderr
    return top / "A", top / "B"


def test_compare_writes_the_table_differences_and_figures(two_sweeps, sim_cli):
    a, _ = two_sweeps
    p = sim_cli(str(a), module="sim.compare")
    assert p.returncode == 0, p.stderr
    out = a / "compare"
    assert {"summary.csv", "differences.csv", "report.txt", "net_change_pct.png",
            "unfollows.png", "actions.png", "followers_over_time.png"} <= {
        f.name for f in out.iterdir()}
    summary = pd.read_csv(out / "summary.csv")
    outcomes = pd.read_csv(a / "outcomes.csv")
    expected = outcomes.groupby(["strategy", "audience.size"]).engagements.mean()
    got = summary[summary.outcome == "engagements"].set_index(["strategy", "audience.size"])
    pd.testing.assert_series_equal(got["mean"].sort_index(), expected.sort_index(),
                                   check_names=False)
    assert "Grouped by strategy, audience.size" in p.stdout
    assert "steady - broadcast" in p.stdout
    diffs = pd.read_csv(out / "differences.csv")
    assert diffs.paired_by_seed.all() and set(diffs["audience.size"]) == {150, 250}


def test_comparing_two_different_sweeps_says_how_they_differ(two_sweeps, tmp_path, sim_cli):
    a, b = two_sweeps
    p = sim_cli(str(a), str(b), "--out", str(tmp_path / "both"), module="sim.compare")
    assert p.returncode == 0, p.stderr
    assert "B does not sweep audience.size; its runs have audience.size=150" in p.stdout
    assert "differ in days" in p.stdout
    summary = pd.read_csv(tmp_path / "both" / "summary.csv")
    assert {"strategy", "audience.size", "days"} <= set(summary.columns)


def test_compare_refuses_folders_that_are_not_sweeps_and_writes_nothing(two_sweeps, tmp_path,
                                                                        sim_cli):
    a, _ = two_sweeps
    (tmp_path / "notes.txt").write_text("x")
    before = sorted(p.name for p in a.iterdir())
    p = sim_cli(str(a), str(tmp_path), "--out", str(tmp_path / "out"), module="sim.compare")
    assert p.returncode == 2 and "is not a sweep folder" in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert sorted(f.name for f in tmp_path.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in a.iterdir()) == before


def test_compare_refuses_a_sweep_where_no_run_finished(tmp_path, sim_cli):
    (tmp_path / "multirun.yaml").write_text("{}")
    (tmp_path / "0" / ".hydra").mkdir(parents=True)
    (tmp_path / "0" / ".hydra" / "overrides.yaml").write_text("- seed=0\n")
    (tmp_path / "0" / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (tmp_path / "0" / "error.txt").write_text("RuntimeError: no\n")
    p = sim_cli(str(tmp_path), module="sim.compare")
    assert p.returncode == 2 and "has no finished runs (1 runs: 1 failed)" in p.stderr
    assert not (tmp_path / "compare").exists()


def test_a_setting_only_one_strategy_has_matches_every_value_of_it():
    burst = fake("B", [{"strategy": "burst", "seed": seed, "strategy.burst_day": day,
                        "unfollows": 10.0 * (day + 1) + seed} for day in (0, 1)
                       for seed in range(3)], ["strategy.burst_day", "seed"])
    steady = fake("S", [{"strategy": "steady", "seed": seed, "unfollows": 1.0 + seed}
                        for seed in range(3)], ["seed"])
    keys, notes = grouping([burst, steady])
    assert keys == ["strategy", "strategy.burst_day"]
    assert "S does not sweep strategy.burst_day; its runs have strategy.burst_day=n/a" in \
        " ".join(notes)
    table = pd.concat([burst.runs, steady.runs], ignore_index=True)
    diffs = differences(table, keys, ["unfollows"]).set_index("strategy.burst_day")
    assert list(diffs.strategy) == ["burst", "burst"] and list(diffs.minus) == ["steady"] * 2
    assert diffs.loc[0.0, "difference"] == pytest.approx(9.0)  # 10+s - (1+s), paired by seed
    assert diffs.loc[1.0, "difference"] == pytest.approx(19.0) and diffs.paired_by_seed.all()


def test_a_seed_is_counted_once_even_when_sweeps_overlap(two_sweeps, tmp_path, sim_cli):
    a, _ = two_sweeps
    import shutil

    copy = tmp_path / "elsewhere" / a.name  # same name, another place
    shutil.copytree(a, copy)
    p = sim_cli(str(a), str(copy), "--out", str(tmp_path / "out"), module="sim.compare")
    assert p.returncode == 0, p.stderr
    assert "8 run(s) repeat a seed already counted" in p.stdout
    assert set(pd.read_csv(tmp_path / "out" / "summary.csv").runs) == {2}
    p = sim_cli(str(a), str(a), "--out", str(tmp_path / "twice"), module="sim.compare")
    assert p.returncode == 2 and "given twice" in p.stderr
    assert not (tmp_path / "twice").exists()


def test_outcomes_beyond_the_headline_are_printed_when_asked(two_sweeps, tmp_path, sim_cli):
    a, _ = two_sweeps
    p = sim_cli(str(a), "--outcomes", "followers_end,follows", "--out", str(tmp_path / "o"),
                module="sim.compare")
    assert p.returncode == 0, p.stderr
    assert "followers at the end:" in p.stdout and "new followers:" in p.stdout
    assert (tmp_path / "o" / "followers_end.png").is_file()
    assert not list((tmp_path / "o").glob(".staging.*"))  # the staging folder is gone
    p = sim_cli(str(a), "--outcomes", "followers", "--out", str(tmp_path / "x"),
                module="sim.compare")
    assert p.returncode == 2 and "not an outcome" in p.stderr
