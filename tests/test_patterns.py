"""Calibration patterns P1-P15 (../shared/evidence/patterns.md), the essay's claim, and
``python -m sim.patterns``.

Small audiences and a few seeds, so the tolerances are a little wider than the targets in
sim.experiment.patterns.TARGETS; the slow tests check the full table on bigger audiences.
docs/ODD.md quotes the full-size figures (python -m sim.patterns).

The patterns on ties (P2, P3, P4, P5, P7, P10, P11) need thousands of followers watched for
51 days, so they run with ``-m slow``, as does the full table, which checks every one of them
again on bigger audiences.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from sim.config.compose import make_strategy, settings
from sim.experiment import patterns
from sim.experiment.run import simulate
from sim.model import array_engine
from sim.model.engines import build

SEEDS = (0, 1)


@functools.lru_cache(maxsize=None)
def ordinary():
    """Default parameters: enough unfollows for P2 on 6,000 followers."""
    return patterns.ordinary_account(6000, SEEDS)


@functools.lru_cache(maxsize=None)
def ties():
    """Ratios between kinds of ties need more unfollows than a small audience gives at the
    default churn; a raised churn (every other parameter at its default) gives them."""
    return patterns.ordinary_account(3000, SEEDS, patterns.RAISED_CHURN)


def test_p1_a_steady_low_cadence_broadcaster_keeps_growing():
    assert 0.1 <= patterns.growth_per_day(2000, SEEDS) <= 0.3


@pytest.mark.slow
def test_p2_many_active_users_unfollow_someone_within_51_days():
    assert 0.28 <= ordinary()["P2"] <= 0.58


@pytest.mark.slow
def test_p3_one_way_ties_break_more_often_than_reciprocal_ones():
    assert 1.7 <= ties()["P3"] <= 3.6


@pytest.mark.slow
def test_p4_young_ties_are_more_fragile():
    assert ties()["P4"] > 1.0


@pytest.mark.slow
def test_p5_acknowledged_followers_stay():
    """Replies protect a tie even when it is one-way: counting them for nothing (same seeds)
    loses more of the one-way followers it answered. More replies to answer, answering all of
    them, and a raised churn make the difference visible; 20,000 followers on the array
    engine give enough answered ties that sampling noise stays well under the margin."""
    assert patterns.acknowledgement_effect(20_000, SEEDS, *patterns.P5_SETTINGS,
                                           setup=patterns.Setup("vector")) > 1.1


def test_p6_diminishing_returns_of_posting_more():
    """Replies are rare (a few hundred on 4,000 followers), so the array engine's 20,000."""
    p6 = patterns.diminishing_returns(20_000, SEEDS, setup=patterns.Setup("vector"))
    assert 0.40 <= p6["P6a"] <= 0.75
    assert 0.60 <= p6["P6b"] <= 0.95
    assert p6["P6a"] < p6["P6b"]


@pytest.mark.slow
def test_p7_flooding_is_a_leading_reason_to_unfollow():
    """Over accounts whose posting rates spread like a feed's, on the array engine (the
    unfollows are few: 100,000 followers give a few hundred)."""
    share = patterns.flooding_share(100_000, SEEDS[:1], setup=patterns.Setup("vector"))
    assert 0.25 <= share <= 0.55


def test_posting_rates_are_heavy_tailed_around_the_feeds_mean():
    rates = patterns.posting_rates(3.0)
    assert rates.mean() == pytest.approx(3.0)
    assert np.all(np.diff(rates) > 0) and rates[-1] > 2 * 3.0 > 3 * rates[0]
    assert np.median(rates) < 3.0  # most accounts post less than the mean


@functools.lru_cache(maxsize=None)
def exposure():
    """(half-life of a post's impressions in minutes, share of its replies in its first hour)."""
    return patterns.impressions_half_life(2000, SEEDS[:1])


def test_p8_exposure_decays_fast():
    minutes, _ = exposure()
    assert 60 <= minutes <= 110


@pytest.mark.xfail(strict=True, reason="a known miss (docs/ODD.md, P8 replies): at hourly "
                   "resolution about half of a post's replies come in its first hour, not ~97 %")
def test_p8_nearly_all_replies_come_in_the_first_hour():
    _, first_hour = exposure()
    assert first_hour >= 0.9


def test_p9_attention_is_limited():
    assert patterns.attention_gradient(2000, SEEDS[:1]) < 0.8


@pytest.mark.slow
def test_p10_low_reciprocity_in_a_broadcast_audience():
    assert 0.17 <= ordinary()["P10"] <= 0.27


def test_p11_survival_of_ties_counts_mature_ties_and_newcomers_as_the_pattern_says():
    """The statistic itself, on ties made up for it: 90 days mark a mature tie, newcomers are
    those watched for three weeks, and gone within a week counts ties that ended by then."""
    day = 24.0
    t = pd.DataFrame({
        "since": [-100 * day, -100 * day, -10 * day, 0.0, 0.0, 2 * day, 40 * day],
        "active": [True, True, True, True, True, True, True],
        "left": [np.nan, 5 * day, 1 * day, 6 * day, 20 * day, np.nan, 41 * day]})
    p11 = patterns.tie_survival(t, days=50)
    assert p11["P11a"] == pytest.approx((1 - 0.5 ** (30 / 50)) * 100)  # one of two mature left
    assert p11["P11b"] == pytest.approx(100 / 3)  # newcomers: days 0, 0, 2 (not day 40)
    assert p11["P11c"] == pytest.approx(200 / 3)


@pytest.mark.slow
def test_p11_new_ties_fall_away_faster_than_mature_ones():
    p = ordinary()
    assert p["P11c"] > p["P11b"] > 0
    assert p["P11b"] / 7 > p["P11a"] / 30  # a newcomer's daily loss exceeds a mature tie's


def test_p12_p13_statistics_are_read_from_runs_at_each_cadence():
    p = patterns.posting_frequency(1000, SEEDS[:1], days=6)
    per_day, per_post = p["shares_per_day"], p["shares_per_post"]
    assert set(per_post) == set(per_day) == {1, 3, 5, 6, 10}
    assert p["P13a"] == (pytest.approx(per_day[10] / per_day[1]) if per_day[1] else np.inf)
    assert per_post[3] == 0 or p["P13b"] == pytest.approx(per_post[10] / per_post[3])
    assert p["P12a"] >= 0


@pytest.mark.slow
def test_p12_p13_posting_often():
    p = patterns.posting_frequency(20_000, SEEDS[:1], setup=patterns.Setup("vector"))
    assert p["P13a"] > 1  # more posts, more shares a day


@pytest.mark.slow
def test_p14_p15_silence_and_engagement():
    assert patterns.silent_growth(3000, SEEDS) < patterns.growth_per_day(3000, SEEDS)
    assert patterns.engagement_growth(3000, SEEDS) >= 1.0


def test_the_essay_steady_keeps_more_followers_and_wins_more_actions_than_burst():
    rows = [simulate(settings(f"strategy={s}", "audience.size=2000", f"seed={seed}",
                              "engine=vector")).outcome  # the engines agree (test_vector)
            for seed in (0, 1, 2) for s in ("steady", "burst")]
    mean = pd.concat(rows).groupby("strategy")[["followers_end", "actions", "unfollows"]].mean()
    assert mean.loc["steady", "followers_end"] > mean.loc["burst", "followers_end"]
    assert mean.loc["steady", "actions"] > mean.loc["burst", "actions"]


@pytest.mark.slow
def test_all_patterns_on_bigger_audiences():
    """The whole table on 100,000 followers (array engine) and 2 seeds: each row within its
    band, P2 with a margin of its sampling error."""
    table = patterns.table(100_000, SEEDS, patterns.Setup("vector"))
    margin = table.pattern.isin(["P2", "P7"]) * 0.04
    within = (table.target_low - margin <= table.model) & (table.model <= table.target_high + margin)
    assert within.all(), table.to_string()


# --- the array engine's record of each tie ------------------------------------------------------

@pytest.mark.parametrize("numpy_path", [False, True])
def test_the_array_engine_keeps_a_record_of_each_tie_like_the_agents(numpy_path):
    """Same columns, same dtypes, one ended tie per unfollow, ended within the run and after
    it began; the hours each ended agree with the hourly unfollows."""
    if not numpy_path and array_engine.numba is None:
        pytest.skip("numba is not installed")
    common = ("audience.size=1500", "days=12", "strategy=steady", "seed=4",
              "behaviour.leaving.churn=0.01")
    agents = simulate(settings("engine=agents", *common)).model.ties()
    cfg = settings("engine=vector", *common)
    if numpy_path:
        model = build(cfg, make_strategy(cfg))
        model.hour_kernel, model.r = array_engine.live_hour_numpy, model.rules
        while model.running:
            model.step()
        ts = pd.DataFrame(model.datacollector.model_vars)
        unfollows = int(ts.unfollows.sum())
    else:
        r = simulate(cfg)
        model, ts, unfollows = r.model, r.timeseries, int(r.outcome.unfollows.iloc[0])
    ties = model.ties()
    assert list(ties.columns) == list(agents.columns)
    assert ties.dtypes.to_dict() == agents.dtypes.to_dict()
    assert len(ties) == model.n
    gone = ties[ties.left.notna()]
    assert unfollows > 20 and len(gone) == unfollows == model.gone
    assert (gone.left >= np.maximum(gone.since, 0)).all() and (gone.left < 12 * 24).all()
    assert gone.active.all()
    per_hour = gone.left.value_counts().reindex(range(12 * 24), fill_value=0).to_numpy()
    assert np.array_equal(per_hour, ts.unfollows.to_numpy())
    for engine_ties in (ties, agents):  # the same audience, drawn alike
        assert 0.15 < engine_ties.mutual.mean() < 0.3


def test_the_record_of_ended_ties_survives_when_the_arrays_grow():
    cfg = settings("engine=vector", "audience.size=800", "days=2", "behaviour.leaving.churn=0.05")
    model = build(cfg, make_strategy(cfg))
    for _ in range(30):
        model.step()
    before = model.ties()
    model._allocate(model.capacity * 2)
    assert before.left.notna().sum() > 0
    pd.testing.assert_frame_equal(model.ties(), before)


# --- python -m sim.patterns ---------------------------------------------------------------------

@pytest.fixture
def patterns_cli(sim_cli, monkeypatch):
    """``python -m sim.patterns ARGS`` in this process."""
    monkeypatch.setitem(sim_cli.__globals__["MAINS"], "sim.patterns", "sim.experiment.patterns")
    return lambda *args: sim_cli(*args, module="sim.patterns")


def test_the_command_line_explains_itself(patterns_cli):
    p = patterns_cli("--help")
    assert p.returncode == 0
    assert "key=value" in p.stdout and "--only" in p.stdout and "--engine" in p.stdout


def test_the_command_line_exits_0_when_every_pattern_is_within_its_band(patterns_cli, tmp_path):
    out = tmp_path / "table.csv"
    p = patterns_cli("--only", "P8", "--size", "600", "--seeds", "1", "--out", str(out),
                     "behaviour.feed.post_half_life_minutes=80")
    assert p.returncode == 0, p.stderr
    assert "P8" in p.stdout and "60 to 110" in p.stdout and "True" in p.stdout
    assert "engine=agents" in p.stderr and " s)" in p.stderr  # progress, with elapsed time
    table = pd.read_csv(out)
    assert list(table.columns) == ["pattern", "statistic", "band", "target_low", "target_high",
                                   "model", "within"]
    assert table.pattern.tolist() == ["P8"] and table.within.all()


def test_the_command_line_exits_1_when_a_pattern_misses_its_band(patterns_cli):
    """When a tenth of the followers leave every day, P1's growth cannot be met."""
    p = patterns_cli("--only", "P1", "--size", "300", "--seeds", "1",
                     "behaviour.leaving.churn=0.1")
    assert p.returncode == 1, p.stderr
    assert "outside: P1" in p.stdout and "False" in p.stdout


@pytest.mark.parametrize("arg, said", [
    ("behaviour.leaving.floodin=0.1", "'behaviour.leaving.floodin' does not exist"),
    ("behaviour.leaving.flooding=-1", "'behaviour.leaving.flooding' = -1.0 is not allowed"),
    ("behaviour.leaving.churn=abc", "'behaviour.leaving.churn' = 'abc' is not allowed"),
    ("strategy.burst_day=99", "'strategy.burst_day' = 99 is not allowed"),
    ("audience.size=10", "use --size"),
    ("flooding", "key=value"),
])
def test_the_command_line_refuses_a_bad_setting_in_one_paragraph(patterns_cli, arg, said):
    p = patterns_cli("--only", "P1", "--size", "300", "--seeds", "1", arg)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert said in p.stderr and p.stderr.count("\n") == 1 and p.stdout == ""


def test_the_command_line_refuses_an_unknown_pattern(patterns_cli):
    p = patterns_cli("--only", "P99")
    assert p.returncode == 2 and "P99" in p.stderr and "P15" in p.stderr


def test_a_direction_is_missed_by_no_effect_at_all():
    p15, p1 = patterns.TARGETS["P15a"], patterns.TARGETS["P1"]
    assert not p15.within(1.0) and p15.within(1.01) and p15.band == "> 1"
    assert p1.within(0.1) and p1.within(0.3) and p1.band == "0.1 to 0.3"
    assert patterns.TARGETS["P13b"].band == "< 1"


def test_only_names_patterns_or_rows():
    assert patterns.rows_for(["P6"]) == ["P6a", "P6b"]
    assert patterns.rows_for(["p11b", "P2"]) == ["P2", "P11b"]
    assert patterns.rows_for([]) == list(patterns.TARGETS)
