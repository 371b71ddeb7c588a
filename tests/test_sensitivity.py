"""Global sensitivity and scenario discovery (python -m sim.sensitivity): the designs cover
the ranges; a parameter the outcome provably ignores gets no effect and one it depends on
does; bad input is refused in one paragraph with nothing written; a failed sample is a row;
the same seed gives the same tables; PRIM finds a planted box.

Small designs on small audiences (or on a stand-in for the model whose answer is known), so
the file runs in well under a minute; the launcher's route is marked slow."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

pytest.importorskip("SALib")
pytest.importorskip("ema_workbench")

from sim.apps import sensitivity as cli  # noqa: E402
from sim.config import uncertainty  # noqa: E402
from sim.config.compose import settings  # noqa: E402
from sim.errors import SettingError  # noqa: E402
from sim.experiment import discovery  # noqa: E402
from sim.experiment import sensitivity as sa  # noqa: E402

FLOODING = {"key": "behaviour.leaving.flooding", "low": 0.015, "high": 0.06, "scale": "log"}
GAIN = {"key": "behaviour.annoyance.gain", "low": 0.5, "high": 2.0, "scale": "log"}
MUTE = {"key": "platform.mute_share", "low": 0.0, "high": 0.5, "scale": "linear"}
TOLERANCE = {"key": "audience.tolerance", "low": 1.5, "high": 3.0, "scale": "linear"}
# twitter_2011 has no mute, so mute_share provably never enters a run: rules.py takes
# "cfg.platform.mute_share if cfg.platform.mute else 0.0"
NO_MUTE = ("platform=twitter_2011", "threads=1")


def ranges_file(folder: Path, *entries: dict, name: str = "ranges.yaml") -> Path:
    path = folder / name
    path.write_text(OmegaConf.to_yaml(OmegaConf.create({"parameters": list(entries)})))
    return path


def study(tmp_path, *entries, **kw) -> sa.Study:
    ranges = tuple(uncertainty.load(str(ranges_file(tmp_path, *entries))))
    return sa.checked_study(sa.Study(ranges, **{"size": 500, "days": 3, "given": NO_MUTE,
                                                **kw}))


def command(*args: str) -> SimpleNamespace:
    """``python -m sim.sensitivity ARGS`` in this process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(list(args))
        except SystemExit as e:
            code = e.code or 0
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


# --- a stand-in for the model, whose answer is known ------------------------------------------

def stand_in(fail_above: float | None = None):
    """simulate() for a model in which burst loses ``1e4 * flooding * gain**2`` followers
    (plus a little that depends on tolerance) and steady none, and actions do not depend on
    any parameter; mute_share enters nothing. With ``fail_above``, a gain above it raises."""
    def simulate(cfg, other_strategies="refuse"):
        gain = cfg.behaviour.annoyance.gain
        if fail_above is not None and gain > fail_above:
            raise RuntimeError(f"gain {gain:.3f} is too much for this stand-in")
        burst = str(cfg.strategy._target_).endswith("Burst")
        loss = (1e4 * cfg.behaviour.leaving.flooding * gain ** 2
                + 10 * cfg.audience.tolerance) if burst else 0.0
        end = cfg.audience.size - loss
        row = {"followers_end": end, "net_change_pct": 100 * (end / cfg.audience.size - 1),
               "actions": 20.0 if burst else 30.0, "unfollows": loss, "version": "test"}
        return SimpleNamespace(outcome=pd.DataFrame([row]))
    return simulate


# --- designs ----------------------------------------------------------------------------------

def test_the_morris_design_reaches_both_ends_of_every_range_on_its_own_scale(tmp_path):
    s = study(tmp_path, FLOODING, MUTE, TOLERANCE)
    design = sa.morris_design(s, trajectories=6)
    assert len(design) == 6 * (3 + 1)
    assert list(design["sample"]) == list(range(len(design)))
    for r in s.ranges:
        values = np.sort(design[r.key].unique())
        assert values.min() == pytest.approx(r.low) and values.max() == pytest.approx(r.high)
        assert set(design[sa.UNIT + r.key].round(9)) <= {0.0, round(1 / 3, 9), round(2 / 3, 9),
                                                         1.0}
        levels = r.from_unit(np.array([0, 1 / 3, 2 / 3, 1]))
        assert all(np.isclose(levels, v).any() for v in values)
    # on a log range the levels are evenly spaced in the logarithm, not in the value
    flood = np.sort(design[FLOODING["key"]].unique())
    if len(flood) == 4:
        assert np.allclose(np.diff(np.log(flood)), np.log(4) / 3)
    # one trajectory changes one parameter at a time
    steps = np.abs(np.diff(design[[sa.UNIT + k for k in s.keys]].to_numpy()[:4], axis=0))
    assert ((steps > 0).sum(axis=1) == 1).all()


def test_the_sobol_design_fills_the_ranges_and_holds_the_others_at_their_settings(tmp_path):
    s = study(tmp_path, FLOODING, MUTE, TOLERANCE)
    design = sa.sobol_design(s, [FLOODING["key"], TOLERANCE["key"]], 64, start=100)
    assert len(design) == 64 * (2 + 2) and design["sample"].iloc[0] == 100
    for r in (s.ranges[0], s.ranges[2]):
        v = design[r.key]
        assert r.low <= v.min() < r.low + 0.05 * (r.high - r.low)
        assert r.high - 0.05 * (r.high - r.low) < v.max() <= r.high
    # log scale: as many points below the geometric middle as above it
    below = (design[FLOODING["key"]] < math.sqrt(0.015 * 0.06)).mean()
    assert 0.4 < below < 0.6
    assert (design[MUTE["key"]] == 0.0).all()  # twitter_2011's setting, not sampled
    assert design[sa.UNIT + MUTE["key"]].isna().all()


def test_a_sample_runs_with_the_settings_the_command_line_would_compose(tmp_path):
    s = study(tmp_path, FLOODING, TOLERANCE)
    batch = sa.Batch(s)
    values = {FLOODING["key"]: 0.0423, TOLERANCE["key"]: 2.75}
    for strategy in sa.STRATEGIES:
        batched = batch.config(strategy, values, seed=7)
        composed = settings(*s.overrides(strategy, "seed=7",
                                         *(f"{k}={v}" for k, v in values.items())))
        assert OmegaConf.to_yaml(batched) == OmegaConf.to_yaml(composed)


# --- what the indices say ---------------------------------------------------------------------

def test_on_the_model_a_parameter_it_ignores_has_no_effect_and_flooding_and_gain_have(tmp_path):
    s = study(tmp_path, FLOODING, GAIN, MUTE)
    batch = sa.Batch(s)
    design = sa.morris_design(s, trajectories=4)
    samples = sa.per_sample(s, batch.run(design, progress=False))
    assert (samples.status == sa.FINISHED).all()
    m = sa.morris(s, design, samples).table.set_index(["outcome", "parameter"])
    followers = m.loc["d_followers_pct"]
    assert followers.loc[MUTE["key"], "mu_star"] == 0.0
    assert followers.loc[MUTE["key"], "sigma"] == 0.0
    assert followers.loc[GAIN["key"], "mu_star"] > 0
    assert followers.loc[FLOODING["key"], "mu_star"] > 0
    assert sa.screen(s, m.reset_index()) and MUTE["key"] not in sa.screen(s, m.reset_index())
    # Sobol' over the ignored parameter and one that matters: exactly nothing for the first
    keys = [GAIN["key"], MUTE["key"]]
    sob = sa.sobol_design(s, keys, 8, start=len(design))
    samples = sa.per_sample(s, batch.run(sob, progress=False))
    idx = sa.sobol(s, keys, sob, samples).table.set_index(["outcome", "parameter"])
    assert idx.loc[("d_followers_pct", MUTE["key"]), "ST"] == 0.0
    assert idx.loc[("d_followers_pct", MUTE["key"]), "S1"] == 0.0
    assert idx.loc[("d_followers_pct", GAIN["key"]), "ST"] > 0.3


def test_sobol_indices_of_a_known_model_apportion_its_variance(tmp_path):
    s = study(tmp_path, FLOODING, GAIN, MUTE, TOLERANCE)
    runner = sa.Batch(s, stand_in()).run
    result = sa.run_study(s, trajectories=6, sobol_n=64, runner=lambda d: runner(d, False))
    t = result.indices.set_index(["outcome", "parameter"]).loc["d_followers_pct"]
    assert t.loc[MUTE["key"], "mu_star"] == 0.0
    assert MUTE["key"] not in result.chosen and GAIN["key"] in result.chosen
    # loss = 1e4 * flooding * gain^2 + 10 * tolerance: gain (a factor of 16 across its
    # range) and flooding (4) carry the variance, tolerance almost none
    assert t.loc[GAIN["key"], "ST"] > t.loc[FLOODING["key"], "ST"] > 0.1
    assert t.loc[GAIN["key"], "ST"] - t.loc[GAIN["key"], "ST_conf"] > 0.3
    if TOLERANCE["key"] in result.chosen:
        assert t.loc[TOLERANCE["key"], "ST"] < 0.05
    # actions depend on nothing: the Morris effects are 0, Sobol' is undefined and says so
    actions = result.indices[result.indices.outcome == "d_actions"]
    assert (actions.mu_star == 0).all() and actions.ST.isna().all()
    assert any("d_actions is the same in every sample" in n for n in result.notes)
    text = sa.report(result, "header")
    assert "Decided by: behaviour.annoyance.gain" in text
    assert "Steady won on both in every finished sample" in text


def test_a_failed_sample_is_a_row_and_the_analysis_goes_on_without_it(tmp_path):
    s = study(tmp_path, FLOODING, GAIN, MUTE)
    runner = sa.Batch(s, stand_in(fail_above=1.9)).run
    result = sa.run_study(s, trajectories=6, sobol_n=8, runner=lambda d: runner(d, False))
    failed = result.runs[result.runs.status == sa.FAILED]
    assert len(failed) > 0
    assert (failed[GAIN["key"]] > 1.9).all()
    assert failed.message.str.contains("RuntimeError: gain").all()
    assert failed.d_followers_pct.isna().all()
    finished = result.runs[result.runs.status == sa.FINISHED]
    assert (finished[GAIN["key"]] <= 1.9).all() and finished.d_followers_pct.notna().all()
    assert f"{len(failed)} of {len(result.runs)} runs failed" in result.notes[0]
    assert any(n.startswith("Morris:") and "left out" in n for n in result.notes)
    assert result.indices.mu_star.notna().any()  # SALib could go on with the rest


def test_when_too_few_trajectories_finish_the_analysis_says_why(tmp_path):
    s = study(tmp_path, FLOODING, GAIN)
    runner = sa.Batch(s, stand_in(fail_above=0.0)).run  # every sample fails
    result = sa.run_study(s, trajectories=2, sobol_n=4, runner=lambda d: runner(d, False))
    assert (result.runs.status == sa.FAILED).all()
    assert any("Morris indices cannot be computed" in n for n in result.notes)
    assert result.indices.mu_star.isna().all()
    assert "No sample finished" in sa.report(result, "header")
    # written over an older analysis, it leaves none of that analysis's figures behind
    out = tmp_path / "study"
    out.mkdir(exist_ok=True)
    for old in ("morris.png", "sobol.png", "regime.png", "regime.csv"):
        (out / old).write_text("an older analysis")
    sa.write_result(out, result, "header")
    assert not any((out / old).exists() for old in ("morris.png", "sobol.png", "regime.png"))
    assert (out / "report.txt").read_text().startswith("header")


# --- scenario discovery -----------------------------------------------------------------------

def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.uniform(size=(600, 4)), columns=["a", "b", "c", "d"])
    inside = ((x.a > 0.6) & (x.b < 0.3)).to_numpy()
    noise = rng.uniform(size=len(x)) < 0.03
    boxes = discovery.boxes(x, inside ^ noise)
    first = boxes[boxes.box == 1].set_index("parameter")
    assert {"a", "b"} <= set(first.index)
    assert first.loc["a", "low"] == pytest.approx(0.6, abs=0.06) and first.loc["a",
                                                                               "low_restricted"]
    assert first.loc["b", "high"] == pytest.approx(0.3, abs=0.06)
    assert first.coverage.iloc[0] > 0.7 and first.density.iloc[0] > 0.8
    text = "\n".join(discovery.describe_boxes(boxes, len(x), int((inside ^ noise).sum())))
    assert "Box 1: " in text and "a >= 0.6" in text


def test_prim_without_failures_or_without_a_pattern_says_so():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    assert discovery.boxes(x, np.zeros(50, bool)).empty
    assert "no region" in " ".join(discovery.describe_boxes(pd.DataFrame(), 50, 0))


def test_the_regime_map_shows_where_steady_wins(tmp_path):
    ranges = uncertainty.load(str(ranges_file(tmp_path, FLOODING, TOLERANCE)))
    rng = np.random.default_rng(0)
    u = rng.uniform(size=(400, 2))
    x = pd.DataFrame({r.key: r.from_unit(u[:, i]) for i, r in enumerate(ranges)})
    holds = u[:, 0] < 0.5  # steady wins where flooding is in the lower half of its range
    keys = [r.key for r in ranges]
    grid = discovery.regime(ranges, x, holds, keys)
    low = grid[grid[sa.UNIT + keys[0]] < 0.2].p_steady_wins
    high = grid[grid[sa.UNIT + keys[0]] > 0.8].p_steady_wins
    assert low.min() > 0.8 and high.max() < 0.2
    fig = discovery.regime_figure(ranges, grid, keys, x.assign(holds=holds))
    assert fig.axes[0].get_xscale() == "log"


# --- the command line ---------------------------------------------------------------------------

@pytest.mark.parametrize("entries, says", [
    ([{"key": "behaviour.annoyance.gian", "low": 0.5, "high": 2.0}], "is not a setting"),
    ([{"key": "behaviour.annoyance.gain", "low": 2.0, "high": 0.5}], "needs low < high"),
    ([{"key": "behaviour.annoyance.gain", "low": 1.0, "high": 1.0}], "needs low < high"),
    ([], "lists no parameters"),
    ([{"key": "audience.size", "low": 500, "high": 1000}], "sets it itself"),
])
def test_a_bad_ranges_file_is_refused_in_one_paragraph_and_nothing_is_written(tmp_path, entries,
                                                                              says):
    path = ranges_file(tmp_path, *entries)
    results = tmp_path / "results"
    p = command("--ranges", str(path), "--results", str(results), "--size", "500")
    assert p.returncode == 2
    assert p.stderr.startswith("sim.sensitivity: ") and says in p.stderr
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert not results.exists()


@pytest.mark.parametrize("args, says", [
    (["--ranges", "nonesuch"], "No parameter ranges named 'nonesuch'"),
    (["--trajectories", "1"], "at least 2 trajectories"),
    (["--sobol-n", "48"], "powers of 2"),
    (["--size", str(10**12)], "not allowed on this machine"),
    (["--map", "behaviour.annoyance.gain,days"], "two different ranged parameters"),
    (["hydra.launcher.n_jobs=2"], "no launcher was chosen"),
    (["days=3"], "give --days"),
    (["behaviour.annoyance.gian=1"], "Did you mean"),
])
def test_bad_options_are_refused_before_anything_runs(tmp_path, args, says):
    path = ranges_file(tmp_path, GAIN, FLOODING)
    results = tmp_path / "results"
    p = command("--ranges", str(path), "--results", str(results), "--size", "500", *args)
    assert p.returncode == 2, p.stderr
    assert says in p.stderr and p.stderr.count("\n") == 1
    assert not results.exists()


def test_a_design_too_long_for_the_time_allowed_or_an_unknown_outcome_is_refused(tmp_path):
    path = ranges_file(tmp_path, GAIN, FLOODING)
    results = tmp_path / "results"
    common = ("--ranges", str(path), "--results", str(results), "--size", "500", "--days",
              "2", *NO_MUTE)
    p = command(*common, "--max-minutes", "0.001")
    assert p.returncode == 2 and "too large for the time allowed" in p.stderr
    assert "--max-minutes is 0.001" in p.stderr
    p = command(*common, "--outcome", "unfollow")
    assert p.returncode == 2 and "--outcome 'unfollow' is not an outcome" in p.stderr
    assert "unfollows" in p.stderr
    assert not results.exists()


def test_the_command_line_writes_every_table_and_figure_and_the_same_seed_gives_the_same(
        tmp_path):
    path = ranges_file(tmp_path, GAIN, FLOODING, MUTE)
    args = ("--ranges", str(path), "--results", str(tmp_path / "out"), "--size", "500",
            "--days", "3", "--trajectories", "2", "--sobol-n", "2", "--outcome", "unfollows",
            *NO_MUTE)
    first = command(*args, "--name", "one")
    assert first.returncode == 0, first.stderr
    second = command(*args, "--name", "two")
    assert second.returncode == 0, second.stderr
    one, two = (next((tmp_path / "out").glob(f"*_{n}")) for n in ("one", "two"))
    for name in ("design.csv", "design.parquet", "runs.csv", "runs.parquet", "indices.csv",
                 "indices.parquet", "boxes.csv", "report.txt", "study.yaml", "morris.png"):
        assert (one / name).is_file(), name
    for name in ("design.csv", "runs.csv", "indices.csv", "boxes.csv", "regime.csv"):
        assert (one / name).read_text() == (two / name).read_text(), name
    runs = pd.read_parquet(one / "runs.parquet")
    assert len(runs) == len(pd.read_csv(one / "design.csv"))  # one seed: a row per sample
    assert {"d_followers_pct", "d_actions", "d_unfollows", "steady_followers_end",
            "burst_followers_end", "status", "message"} <= set(runs.columns)
    assert (runs.status == "finished").all()
    report = (one / "report.txt").read_text()
    assert "Does steady beat burst?" in report and "Where the claim fails" in report
    assert report in first.stdout
    assert not list(one.glob(".*"))  # no temporary file left behind
    # the runs analysed again (as after an interruption) give the same indices
    indices = (one / "indices.csv").read_text()
    again = command("--analyse", str(one))
    assert again.returncode == 0, again.stderr
    assert (one / "indices.csv").read_text() == indices


def test_analysing_a_folder_that_is_not_a_study_is_refused(tmp_path):
    for folder, says in ((tmp_path / "nonesuch", "is not a folder"),
                         (tmp_path, "is not the folder of a sensitivity study")):
        p = command("--analyse", str(folder))
        assert p.returncode == 2 and says in p.stderr and p.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_the_default_ranges_load_and_make_a_design_of_every_parameter():
    s = sa.Study(tuple(uncertainty.load("default")), size=1000)
    design = sa.morris_design(s, trajectories=2)
    assert len(s.keys) == 26 and len(design) == 2 * 27
    for r in s.ranges:
        assert design[r.key].between(r.low - 1e-12, r.high + 1e-12).all()


@pytest.mark.slow
def test_worker_processes_give_the_same_rows_as_this_process(tmp_path):
    s = study(tmp_path, GAIN, FLOODING, MUTE)
    design = sa.morris_design(s, trajectories=2)
    pool = sa.Pool(s, workers=2)
    try:
        there = pool.run(design, progress=False)
    finally:
        pool.close()
    here = sa.Batch(s).run(design, progress=False)
    pd.testing.assert_frame_equal(here, there)


@pytest.mark.integration
@pytest.mark.slow
def test_the_joblib_launcher_gives_the_same_rows_as_this_process(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    path = ranges_file(tmp_path, GAIN, FLOODING)
    args = ("--ranges", str(path), "--results", str(tmp_path / "out"), "--size", "500",
            "--days", "3", "--trajectories", "2", "--sobol-n", "2", *NO_MUTE)
    here = command(*args, "--name", "here")
    there = command(*args, "--name", "there", "--launcher", "joblib", "--per-job", "4",
                    "hydra.launcher.n_jobs=2")
    assert here.returncode == 0 and there.returncode == 0, there.stderr
    a, b = (next((tmp_path / "out").glob(f"*_{n}")) for n in ("here", "there"))
    assert (a / "runs.csv").read_text() == (b / "runs.csv").read_text()
    assert (b / "jobs" / "morris" / "chunk_0.parquet").is_file()


def test_a_setting_both_given_and_ranged_is_refused(tmp_path):
    with pytest.raises(SettingError, match="also one of the ranged parameters"):
        study(tmp_path, GAIN, given=("behaviour.annoyance.gain=1.5",))
