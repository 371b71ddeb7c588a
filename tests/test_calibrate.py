"""Pattern-filtered ensembles (python -m sim.calibrate) and runs over an ensemble (ensemble=).

Most tests replace the pattern measurement by synthetic statistics (patterns.table is
patched), so that they check the filtering, the folder and resuming in milliseconds; a few run
the real patterns on tiny audiences (P14 and P1 on 200 followers: about a second a sample).
"""

from __future__ import annotations

import functools
import os
import runpy
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ensembles
from sim.config.compose import settings
from sim.config.uncertainty import load
from sim.errors import SettingError
from sim.experiment import calibrate, ensemble, patterns
from sim.experiment.run import simulate

ROOT = Path(__file__).resolve().parents[1]
ROWS = ["P2", "P7", "P12a", "P14"]  # a closed band, another, an open one, a negative one


@functools.cache
def ranges() -> list:
    return load("default")


def spec(samples: int = 12, rows=ROWS, early: bool = False, method: str = "sobol",
         seed: int = 0) -> calibrate.Spec:
    return calibrate.Spec([asdict(r) for r in ranges()], "default", samples, seed,
                          method, 200, 1, "vector", list(rows), [], early)


def synthetic(given: tuple[str, ...]) -> dict[str, float]:
    """Statistics that depend on the sample (its flooding and churn), some exactly on a band's
    edge: a closed band keeps its edge, an open band does not."""
    values = dict(o.split("=", 1) for o in given if o.startswith(("behaviour.", "audience.")))
    u = (np.log(float(values["behaviour.leaving.flooding"])) - np.log(0.015)) / np.log(4.0)
    c = (np.log(float(values["behaviour.leaving.churn"])) - np.log(5e-4)) / np.log(4.0)
    g = (float(values["audience.interest"]) - 0.15) / 0.35
    return {"P2": 0.2 + 0.5 * c,                                # band 0.33-0.53
            "P7": 0.30 if g < 0.3 else 0.1 + 0.6 * u,           # 0.30-0.50: 0.30 is inside
            "P12a": 1.0 if g > 0.8 else 1.0 + 0.5 * u,          # > 1: exactly 1 is outside
            "P14": -0.05 if c < 0.4 else -0.02 + 0.1 * (u - 0.5)}  # -0.05 is inside


class FakeTable:
    """patterns.table with synthetic statistics; counts the samples it measured."""

    def __init__(self, fail_when=None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail_when = fail_when

    def __call__(self, size, seeds, setup=None, only=None):
        self.calls.append(setup.given)
        if self.fail_when is not None and self.fail_when(setup.given):
            raise RuntimeError("the model blew up\non two lines")
        values = synthetic(setup.given)
        rows = patterns.rows_for(only)
        return pd.DataFrame([{"pattern": k, "model": round(values[k], 4),
                              "within": patterns.TARGETS[k].within(values[k])} for k in rows])


def by_hand(value: float, key: str) -> bool:
    t = patterns.TARGETS[key]
    return (t.low < value < t.high) if t.open else (t.low <= value <= t.high)


@pytest.fixture
def fake(monkeypatch):
    table = FakeTable()
    monkeypatch.setattr(patterns, "table", table)
    return table


# --- the design ----------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_design_and_another_seed_another():
    a, b = calibrate.unit_design(26, 16, seed=3), calibrate.unit_design(26, 16, seed=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, calibrate.unit_design(26, 16, seed=4))
    assert ((a >= 0) & (a < 1)).all()


def test_a_sobol_design_extends_and_a_latin_hypercube_fills_every_stratum():
    few, more = calibrate.unit_design(5, 8, 0), calibrate.unit_design(5, 32, 0)
    assert np.array_equal(few, more[:8])  # --resume --samples 32 keeps the first 8
    lhs = calibrate.unit_design(4, 20, 0, "lhs")
    for column in lhs.T:  # one point in each twentieth of each parameter's range
        assert sorted(np.floor(column * 20).astype(int)) == list(range(20))


def test_the_design_maps_the_unit_cube_onto_each_range_on_its_scale():
    table = calibrate.design(spec(64))
    for r in ranges():
        values = table[r.key]
        assert values.between(r.low, r.high).all(), r.key
        u = calibrate.to_unit(r, values)
        assert np.allclose(r.from_unit(u), values)
    flooding = table["behaviour.leaving.flooding"]  # log scale: the geometric middle splits it
    assert abs((flooding < np.sqrt(0.015 * 0.06)).mean() - 0.5) < 0.1


def test_the_cost_table_names_the_same_scenarios_as_the_patterns():
    assert set(calibrate.SCENARIO_DAYS) == {keys for keys, _ in patterns.MEASURES}
    assert sorted(k for keys in calibrate.SCENARIO_DAYS for k in keys) == \
        sorted(patterns.TARGETS)


# --- filtering -----------------------------------------------------------------------------------

@pytest.mark.parametrize("early", [False, True])
def test_filtering_keeps_exactly_the_samples_inside_every_band(tmp_path, fake, early):
    found = calibrate.calibrate(tmp_path / "c", spec(40, early=early), figure=False)
    samples, members = found["samples"], found["ensemble"]
    design = calibrate.design(spec(40))
    expected = []
    for row in design.to_dict("records"):
        given = calibrate.overrides_of(row, ranges())
        values = synthetic(given)
        if all(by_hand(values[k], k) for k in ROWS):
            expected.append(int(row["sample"]))
    assert 0 < len(expected) < 40  # the synthetic bands keep some and reject some
    assert sorted(members.member) == expected
    assert sorted(samples["sample"][samples.accepted]) == expected
    if not early:  # the edges were exercised: a closed band keeps its edge, an open one not
        assert samples.accepted[samples.P7 == 0.30].any()
        assert samples.accepted[samples.P14 == -0.05].any()
        assert (samples.P12a == 1.0).any() and not samples.accepted[samples.P12a == 1.0].any()
    # the ensemble holds each member's parameters and statistics, as measured
    merged = members.merge(samples, left_on="member", right_on="sample")
    for key in [*ROWS, "behaviour.leaving.flooding"]:
        assert np.array_equal(merged[f"{key}_x"], merged[f"{key}_y"])
    on_disk = pd.read_parquet(tmp_path / "c" / "ensemble.parquet")
    assert on_disk.member.tolist() == expected
    if early:  # a sample out of its first band is not measured further
        assert samples[~samples.accepted][ROWS].isna().any(axis=None)


def test_a_sample_whose_run_fails_is_a_row_with_its_message(tmp_path, monkeypatch):
    table = FakeTable(fail_when=lambda given: given == fake_sample_overrides(1))
    monkeypatch.setattr(patterns, "table", table)
    found = calibrate.calibrate(tmp_path / "c", spec(4), figure=False)
    samples = found["samples"].set_index("sample")
    assert samples.status.tolist() == ["finished", "failed", "finished", "finished"]
    assert samples.error[1] == "RuntimeError: the model blew up on two lines"
    assert not samples.accepted[1]
    assert 1 not in set(found["ensemble"].member)


def fake_sample_overrides(number: int) -> tuple[str, ...]:
    row = calibrate.design(spec(4)).iloc[number].to_dict()
    return calibrate.overrides_of(row, ranges())


def test_narrowing_shows_the_span_of_accepted_sets_and_what_each_band_narrows(tmp_path, fake):
    found = calibrate.calibrate(tmp_path / "c", spec(64))
    narrow = found["narrowing"].set_index("parameter")
    churn, interest = narrow.loc["behaviour.leaving.churn"], narrow.loc["audience.interest"]
    assert 0.8 < churn.span_all <= 1
    assert churn.span_P2 < 0.6 * churn.span_all  # P2 depends on churn alone here
    assert narrow.loc["audience.tolerance"].span_P2 > 0.7  # and on nothing else
    assert interest.span_P12a < 0.9 * interest.span_all  # P12a on interest (and flooding)
    assert churn.span_accepted < 0.6 * churn.span_all
    effects = found["effects"].set_index("pattern")
    assert effects.narrows_most["P2"].startswith("behaviour.leaving.churn")
    assert (tmp_path / "c" / "corner.png").stat().st_size > 0


# --- resuming ------------------------------------------------------------------------------------

class Killed(BaseException):
    """Stands for a kill: not an Exception, so nothing catches it as a failed sample."""


def test_a_killed_calibration_resumes_without_redoing_finished_samples(tmp_path, fake):
    folder = tmp_path / "c"

    def kill_after_three(row):
        if row["sample"] == 2:
            raise Killed
    with pytest.raises(Killed):
        calibrate.calibrate(folder, spec(8), on_sample=kill_after_three, figure=False)
    kept = sorted(p.name for p in (folder / "samples").iterdir())
    assert kept == ["000000.csv", "000001.csv", "000002.csv"]
    assert len(fake.calls) == 3
    before = {p.name: p.stat().st_mtime_ns for p in (folder / "samples").iterdir()}
    fake.calls.clear()
    found = calibrate.calibrate(folder, calibrate.read_spec(folder), figure=False)
    number = {calibrate.overrides_of(r, ranges()): int(r["sample"])
              for r in calibrate.design(spec(8)).to_dict("records")}
    assert sorted(number[g] for g in fake.calls) == [3, 4, 5, 6, 7]  # the finished three were not measured again
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "samples").iterdir()
            if p.name in before} == before
    whole = calibrate.calibrate(tmp_path / "whole", spec(8), figure=False)
    pd.testing.assert_frame_equal(found["samples"], whole["samples"])
    pd.testing.assert_frame_equal(found["ensemble"], whole["ensemble"])


def test_stop_after_stops_resumably_and_resume_extends_a_sobol_design(tmp_path, fake, sim_cli):
    folder = tmp_path / "c"
    calibrate.calibrate(folder, spec(4), stop_after=0, figure=False)
    assert not list((folder / "samples").iterdir())  # stopped before the first sample
    calibrate.calibrate(folder, spec(4), figure=False)
    assert len(list((folder / "samples").iterdir())) == 4
    fake.calls.clear()
    ran = sim_cli("--resume", str(folder), "--samples", "6", module="sim.calibrate")
    assert ran.returncode == 0, ran.stderr
    assert len(fake.calls) == 2 and len(list((folder / "samples").iterdir())) == 6
    assert calibrate.read_spec(folder).samples == 6


def test_early_rejection_measures_first_the_group_that_rejects_at_least_cost():
    rows = ["P1", "P2", "P7", "P14"]
    assert calibrate.cheapest_rejection_first(rows, pd.DataFrame()) == \
        calibrate.cheapest_first(rows)  # nothing measured yet: cheapest first
    # P7 costs the most days but rejected 99 of 100 samples; P2 5; P14 and P1 none
    done = pd.DataFrame({"status": ["finished"] * 100,
                         "P1_within": [True] * 100, "P14_within": [True] * 100,
                         "P2_within": [True] * 95 + [False] * 5,
                         "P7_within": [True] + [False] * 99})
    order = calibrate.cheapest_rejection_first(rows, done)
    assert order[0] == ["P7"] and order[1] == ["P2"]
    assert sorted(k for group in order for k in group) == sorted(rows)


def test_the_order_of_rejection_changes_no_acceptance(tmp_path, fake):
    plain = calibrate.calibrate(tmp_path / "a", spec(24, early=True), figure=False)
    reordered = [["P14"], ["P7"], ["P12a"], ["P2"]]
    found = calibrate.calibrate(tmp_path / "b", spec(24, early=True), figure=False,
                                measure_one=lambda s, sp, stages: calibrate.measure(
                                    s, sp, stages=reordered))
    assert found["ensemble"].member.tolist() == plain["ensemble"].member.tolist()


def test_enough_stops_at_that_many_accepted_and_resume_goes_on(tmp_path, fake):
    whole = calibrate.calibrate(tmp_path / "whole", spec(40), figure=False)
    first_two = sorted(whole["ensemble"].member)[:2]
    found = calibrate.calibrate(tmp_path / "c", spec(40), figure=False, enough=2)
    assert sorted(found["ensemble"].member) == first_two
    assert found["samples"]["sample"].max() == first_two[1]  # stopped right there
    again = calibrate.calibrate(tmp_path / "c", spec(40), figure=False)
    pd.testing.assert_frame_equal(again["ensemble"], whole["ensemble"])


# --- the command line ----------------------------------------------------------------------------

def real(*more: str) -> list[str]:
    """A real calibration on a tiny audience: 2 samples, pattern P14 on 200 followers."""
    return ["--samples", "2", "--size", "200", "--only", "P14", "threads=1", *more]


def test_the_same_seed_and_design_give_identical_tables(tmp_path, sim_cli):
    for name in ("a", "b"):
        ran = sim_cli(*real("--out", str(tmp_path / name)), module="sim.calibrate",
                      cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr
    # and with two samples measured at once, in two processes
    ran = sim_cli(*real("--out", str(tmp_path / "two"), "--workers", "2"),
                  module="sim.calibrate", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    for table in ("samples.csv", "ensemble.csv", "narrowing.csv", "design.csv"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "two" / table).read_bytes()
    samples = pd.read_csv(tmp_path / "a" / "samples.csv")
    assert samples.status.eq("finished").all() and samples.P14.notna().all()
    # and the statistics are those python -m sim.patterns measures with the same settings
    row = samples.iloc[0]
    given = calibrate.overrides_of(row.to_dict(), ranges())
    direct = patterns.table(200, range(1), patterns.Setup("vector", ("threads=1", *given),
                                                          cache={}), only=["P14"])
    assert direct.model.iloc[0] == row.P14


def test_a_design_too_large_for_the_time_at_hand_is_refused_and_nothing_written(tmp_path,
                                                                              sim_cli):
    ran = sim_cli(*real("--samples", "100000", "--time-limit", "10m"), module="sim.calibrate",
                  cwd=tmp_path)
    assert ran.returncode == 2
    assert ran.stderr.startswith("sim.calibrate: The design is too large for the time at hand")
    assert len(ran.stderr.strip().splitlines()) == 1 and "Traceback" not in ran.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("args, says", [
    (["--ranges", "nosuch"], "No parameter ranges named 'nosuch'"),
    (["--ranges", "inverted.yaml"], "needs low < high"),
    (["--ranges", "unknown.yaml"], "is not a setting"),
    (["behaviour.leaving.flooding=0.03"], "is one of the ranged parameters"),
    (["ensemble=default"], "cannot be given to python -m sim.calibrate"),
    (["--resume", "no/such/folder"], "is not a folder"),
    (["--samples", "0"], "must be at least 1"),
    (["--workers", "0"], "--workers = 0 is not allowed"),
    (["--enough", "0"], "--enough = 0 is not allowed"),
    (["--design-seed", "-1"], "must be 0 or more"),
    (["--only", "P99"], "--only names no pattern called P99"),
])
def test_bad_input_is_one_paragraph_exit_2_and_nothing_written(tmp_path, sim_cli, args, says):
    (tmp_path / "inverted.yaml").write_text(
        "parameters:\n  - {key: behaviour.leaving.flooding, low: 0.06, high: 0.015}\n")
    (tmp_path / "unknown.yaml").write_text(
        "parameters:\n  - {key: behaviour.leaving.flodding, low: 0.01, high: 0.06}\n")
    ran = sim_cli(*args, "--size", "200", module="sim.calibrate", cwd=tmp_path)
    assert ran.returncode == 2, ran.stderr
    assert says in ran.stderr and len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    assert not (tmp_path / "results").exists()


# --- runs over an ensemble -----------------------------------------------------------------------

@pytest.fixture
def small_ensemble(tmp_path) -> Path:
    """A calibration's folder holding three members drawn from the ranges."""
    folder = tmp_path / "calibration"
    folder.mkdir()
    members = calibrate.design(spec(3)).rename(columns={"sample": "member"})
    members["member"] = [4, 9, 17]
    members.to_csv(folder / "ensemble.csv", index=False)
    return folder


RUN = ("audience.size=200", "days=4", "strategy=burst")


def test_an_ensemble_run_reports_intervals_that_contain_each_members_single_set_result(
        tmp_path, sim_cli, small_ensemble):
    out = tmp_path / "run"
    ran = sim_cli(f"ensemble={small_ensemble}", *RUN, "behaviour.annoyance.gain=1.5",
                  f"hydra.run.dir={out}", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "across ensemble" in ran.stdout and "median [90% interval]" in ran.stdout
    assert "pinned in every member" in ran.stdout
    table = pd.read_csv(out / "ensemble.csv")
    summary = pd.read_csv(out / "ensemble_summary.csv").set_index("outcome")
    assert table.member.tolist() == [4, 9, 17] and table.status.eq("finished").all()
    assert "behaviour.annoyance.gain" not in table  # pinned: the given value in every member
    for row in table.to_dict("records"):
        values = {r.key: row[r.key] for r in ranges() if r.key in row}
        single = simulate(settings(*RUN, "behaviour.annoyance.gain=1.5",
                                   *[f"{k}={v!r}" for k, v in values.items()]),
                          label="burst").outcome.iloc[0]
        for outcome in ensemble.OUTCOMES:
            assert single[outcome] == pytest.approx(row[outcome], rel=1e-12, abs=1e-12), outcome
            s = summary.loc[outcome]
            assert s["min"] <= single[outcome] <= s["max"]
            assert s["min"] <= s.low <= s["median"] <= s.high <= s["max"]
    daily = pd.read_csv(out / "ensemble_daily.csv")
    assert sorted(daily.member.unique()) == [4, 9, 17] and daily.day.nunique() == 4
    assert (out / "outcome.csv").is_file()  # the base run's tables are there as usual


def test_a_missing_ensemble_folder_is_one_paragraph_exit_2_and_nothing_written(tmp_path,
                                                                              sim_cli):
    for args in ([], ["-m", "seed=0,1"]):
        ran = sim_cli(*args, "ensemble=results/calibration/never", *RUN, cwd=tmp_path)
        assert ran.returncode == 2
        assert "Setting 'ensemble' = 'results/calibration/never' names no ensemble" in ran.stderr
        assert len(ran.stderr.strip().splitlines()) == 1 and "Traceback" not in ran.stderr
        assert not (tmp_path / "results").exists() and not list(tmp_path.iterdir())


def test_an_ensemble_that_cannot_be_used_is_refused(tmp_path, small_ensemble):
    table = pd.read_csv(small_ensemble / "ensemble.csv")
    bad = tmp_path / "bad"
    bad.mkdir()
    table.rename(columns={"behaviour.leaving.churn": "behaviour.leaving.chrun"}).to_csv(
        bad / "ensemble.csv", index=False)
    with pytest.raises(SettingError, match="is not a setting"):
        ensembles.load(str(bad))
    table.assign(**{"behaviour.leaving.churn": -1.0}).to_csv(bad / "ensemble.csv", index=False)
    with pytest.raises(SettingError, match="not allowed"):
        ensembles.load(str(bad))
    table.assign(member=[f"m{i}" for i in range(len(table))]).to_csv(bad / "ensemble.csv",
                                                                       index=False)
    with pytest.raises(SettingError, match="whole numbers"):
        ensembles.load(str(bad))
    table.head(0).to_csv(bad / "ensemble.csv", index=False)
    with pytest.raises(SettingError, match="holds no members"):
        ensembles.load(str(bad))
    (bad / "ensemble.csv").unlink()
    with pytest.raises(SettingError, match="folder without an ensemble"):
        ensembles.load(str(bad))


def test_compare_reports_intervals_across_the_ensemble_and_the_seeds(tmp_path, sim_cli,
                                                                      small_ensemble):
    sweep = tmp_path / "sweep"
    ran = sim_cli("-m", "strategy=steady,burst", "seed=0,1", f"ensemble={small_ensemble}",
                  "audience.size=200", "days=4", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    ran = sim_cli(str(sweep), module="sim.compare", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("Across the ensemble")
    assert "3 members, 12 member runs" in ran.stdout and "n=6" in ran.stdout
    assert "steady - burst" in ran.stdout
    assert "At the base parameter set" in ran.stdout
    summary = pd.read_csv(sweep / "compare" / "ensemble_summary.csv")
    net = summary[(summary.outcome == "net_change_pct")].set_index("strategy")
    members = pd.concat(pd.read_csv(f).assign(run=f.parent.name)
                        for f in sweep.glob("*/ensemble.csv"))
    for strategy in ("steady", "burst"):
        values = members.net_change_pct[members.strategy == strategy]
        assert net.loc[strategy, "n"] == 6
        assert net.loc[strategy, "median"] == pytest.approx(values.median())
    assert (sweep / "compare" / "ensemble_differences.csv").is_file()


def test_the_shipped_ensemble_loads_and_lies_within_the_ranges():
    assert "default" in ensembles.shipped()
    shipped = ensembles.load("default")
    by_key = {r.key: r for r in ranges()}
    assert set(shipped.keys) == set(by_key)
    assert len(shipped) >= 1
    for key, r in by_key.items():
        assert shipped.table[key].between(r.low, r.high).all(), key
    statistics = pd.read_csv(shipped.source)
    for key in [k for k in patterns.TARGETS if k in statistics]:
        assert statistics[key].map(lambda v, k=key: patterns.TARGETS[k].within(v)).all(), key


def test_the_seed_case_reports_the_burst_day_and_three_after_across_the_ensemble(
        tmp_path, small_ensemble, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["seed_case.py", "--ensemble", str(small_ensemble),
                                      "--seeds", "1", "--size", "300", "--members", "2"])
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    runpy.run_path(str(ROOT / "docs" / "seed_case.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "2 members x 1 seed(s), 300 followers" in out
    for label in ("7 (burst)", "8 (burst +1)", "9 (burst +2)", "10 (burst +3)"):
        assert label in out
    assert not os.listdir(tmp_path / "here")  # it prints; it writes nothing
