"""The array engine: the same rules as the agent engine, the same model in distribution,
identical tables whatever the threads or the numba/numpy path, and a memory check."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.config.checks import check
from sim.config.compose import make_strategy, settings
from sim.errors import SettingError
from sim.experiment.run import simulate
from sim.model import array_engine as vector
from sim.model import rules as follower
from sim.model import state, streams, traits
from sim.model.engines import build
from sim.model.state import FOLLOWER, chosen_engine

ROOT = Path(__file__).resolve().parents[1]
needs_numba = pytest.mark.skipif(vector.numba is None, reason="numba is not installed")


def run_vector(*overrides: str, numpy_path: bool = False):
    """A vector run; ``numpy_path`` swaps the compiled hour for the numpy one."""
    cfg = settings("engine=vector", *overrides)
    model = build(cfg, make_strategy(cfg))
    if numpy_path:
        model.hour_kernel, model.r = vector.live_hour_numpy, model.rules
    while model.running:
        model.step()
    return model, model.datacollector.get_model_vars_dataframe()


SMALL = ("audience.size=3000", "days=3", "strategy=burst", "strategy.burst_day=1",
         "budget.asks=40", "strategy.reply_share=1.0", "strategy.reply_capacity=20")


def test_the_engines_compile_the_rules_module_itself():
    if vector.numba is None:
        pytest.skip("numba is not installed")
    for name in ("pass_time", "is_online", "spend_online_hour", "unfollow_hazard",
                 "tolerated_in_session", "annoyance_growth"):
        compiled = getattr(vector._rules, name)
        assert compiled.py_func.__code__ is getattr(follower, name).__code__


BLOCKS = ("audience.size=40000", "days=2", "strategy=burst", "strategy.burst_day=1",
          "budget.asks=40")  # three blocks of followers, so threads split the work


@needs_numba
def test_compiled_and_numpy_paths_give_identical_tables():
    _, compiled = run_vector(*SMALL)
    _, plain = run_vector(*SMALL, numpy_path=True)
    pd.testing.assert_frame_equal(compiled, plain, check_exact=True)
    assert compiled.unfollows.sum() > 0 and compiled.replies_given.sum() > 0
    _, compiled = run_vector(*BLOCKS)
    _, plain = run_vector(*BLOCKS, numpy_path=True)
    pd.testing.assert_frame_equal(compiled, plain, check_exact=True)


@needs_numba
def test_one_and_two_threads_give_identical_tables():
    assert 40000 > 2 * vector.BLOCK
    _, one = run_vector(*BLOCKS, "threads=1")
    _, two = run_vector(*BLOCKS, "threads=2")
    pd.testing.assert_frame_equal(one, two, check_exact=True)


@needs_numba
def test_compiled_code_is_cached_under_a_hash_of_the_rules_source(tmp_path, monkeypatch):
    """An edited rule (or declaration, or stream) must not find the old machine code: the
    cache key changes with each of the sources the compiled hour is built from."""
    assert vector.numba.config.CACHE_DIR.endswith(vector.CACHE_KEY)
    kernel = Path(vector.numba.config.CACHE_DIR) / "live_hour.py"  # the generated hour
    assert kernel.read_text() == vector.kernel_source()
    assert vector._cache_key() == vector.CACHE_KEY  # the same sources, the same key
    keys = {vector.CACHE_KEY}
    for module in (follower, traits, streams, state, vector):
        edited = tmp_path / f"{module.__name__}.py"
        edited.write_bytes(Path(module.__file__).read_bytes() + b"\n# an edit\n")
        with monkeypatch.context() as m:
            m.setattr(module, "__file__", str(edited))
            keys.add(vector._cache_key())
    assert len(keys) == 6, "an edited source must give a new cache key"


def test_replies_reach_the_followers_who_replied():
    model, ts = run_vector(*SMALL)
    acknowledged = (model.flags[:model.n] & vector.BIT["acknowledged"]) > 0
    assert ts.replies_given.sum() > 0
    assert acknowledged.sum() == pytest.approx(ts.replies_given.sum(), rel=0.2)
    assert model.ties().acknowledged.sum() == acknowledged.sum()


def test_a_follower_costs_at_most_36_bytes():
    """What the memory check plans for is what the model allocates: every array it holds
    with a place per follower, whatever its name."""
    model, _ = run_vector("audience.size=20000", "days=1")
    arrays = {id(a): a for a in vars(model).values()
              if isinstance(a, np.ndarray) and len(a) == model.capacity}
    per_follower = sum(a.itemsize for a in arrays.values())
    assert per_follower == state.BYTES["vector"] <= 36  # 1e8 followers in 24 GiB, with room


def test_every_declared_variable_has_a_column_or_a_flag_and_a_place_in_scratch():
    model = build(*(lambda cfg: (cfg, make_strategy(cfg)))(settings("engine=vector",
                                                                     "audience.size=500")))
    for v in FOLLOWER:
        if v.storage == "flag":
            assert v.name in vector.BIT and v.name not in model.columns
        else:
            assert model.columns[v.name].dtype == state.STORAGE[v.storage]
            assert getattr(model, v.name) is model.columns[v.name]
    bits = list(vector.BIT.values())
    assert len(set(bits)) == len(bits) and max(bits) < 256
    assert set(vector.SCRATCH.names) == {v.name for v in FOLLOWER} | set(vector.DERIVED)
    assert vector.SUMS[-len(state.SUMMED) - 1:-1] == state.SUMMED


@pytest.mark.parametrize("numpy_path", [False, True])
def test_every_declared_variable_is_loaded_and_stored_in_an_hour(numpy_path):
    """One follower online for sure: after the hour, each declared variable holds what the
    rules, applied in Python to the follower as stored, make of it."""
    if not numpy_path and vector.numba is None:
        pytest.skip("numba is not installed")
    cfg = settings("engine=vector", "audience.size=500", "seed=3")
    model = build(cfg, make_strategy(cfg))
    if numpy_path:
        model.hour_kernel, model.r = vector.live_hour_numpy, model.rules
    i = np.flatnonzero(model.activity[:model.n])[-1]
    model.activity[i] = vector.log_code(np.array([1000.0]))[0]  # online every hour
    ref = vector.FollowerRef(model, i)
    ref.acknowledged, ref.annoyance, ref.balance = 1, 0.7, -0.2  # away from their start
    before = {v.name: getattr(ref, v.name) for v in FOLLOWER}
    model.hour, model.rhythm_now = 10, model.rhythm[10]
    model.account.fresh_values, model.account.fresh_asks = 30.0, 20.0

    f, r = SimpleNamespace(**before), model.rules
    other_posts = cfg.audience.attention.other_posts_per_day
    with np.errstate(over="ignore"):
        h = streams.hour_key(model.key, np.uint64(model.hour))
        u = [float(streams.uniform(h, np.uint64(i), np.uint64(d))) for d in range(9)]
    follower.pass_time(f, r)
    assert follower.is_online(f, model.rhythm_now, u[0])
    f.fair = (traits.seen_per_hour(f.activity, f.reads, f.crowd, other_posts, r)
              / (1.0 - r.memory_keep))
    f.age = model.hour - float(model.since[i])
    follower.spend_online_hour(f, 30.0, 20.0, u[1:], r)

    model.live_hour()
    for v in FOLLOWER:
        after, expected = getattr(ref, v.name), getattr(f, v.name)
        if v.kind == "trait":
            assert after == before[v.name], v.name
        elif v.storage == "flag":
            assert after == float(expected > 0), v.name
        else:
            assert after == pytest.approx(float(np.float32(expected)), rel=1e-6), v.name
    assert f.annoyance != before["annoyance"] and f.recent != before["recent"]  # a real hour


def test_traits_survive_their_16_bit_codes():
    x = np.array([0.002, 0.5, 1.0, 3.7, 1234.5])
    back = vector.LOG_VALUES[vector.log_code(x)]
    assert np.allclose(back, x, rtol=3e-4) and vector.LOG_VALUES[vector.log_code([0.0])][0] == 0
    shares = np.array([0.001, 0.3, 0.999])
    assert np.allclose(vector.SHARE_VALUES[vector.share_code(shares)], shares, atol=2e-5)


def chosen(cfg) -> str:
    return chosen_engine(cfg.engine, cfg.audience.size)


def test_auto_takes_the_arrays_for_large_audiences_and_an_explicit_choice_wins():
    assert chosen(settings("audience.size=2000")) == "agents"
    assert chosen(settings("audience.size=60000")) == "vector"
    assert chosen(settings("audience.size=60000", "engine=agents")) == "agents"
    assert simulate(settings("engine=vector", "audience.size=500", "days=1")).outcome.engine[0] \
        == "vector"


def test_an_audience_that_does_not_fit_is_refused_before_anything_is_allocated(tmp_path,
                                                                                 sim_cli):
    with pytest.raises(SettingError, match=r"at most about [\d,]+ followers with engine=vector"):
        check(settings("audience.size=100000000000", "engine=vector"))
    bytes_each = state.BYTES["vector"]
    with pytest.raises(SettingError, match=f"engine=vector needs about {bytes_each} bytes"):
        check(settings("audience.size=1000000000", "engine=agents"))
    p = sim_cli("audience.size=100000000000", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "'audience.size'" in p.stderr and not (tmp_path / "results").exists()


# --- agreement in distribution ---------------------------------------------------------------

MAIN = ["followers_end", "unfollows", "mutes", "impressions", "engagements", "actions"]


def outcomes(engine: str, strategy: str, seeds, size: int, days: int) -> pd.DataFrame:
    rows, hours = [], []
    for seed in seeds:
        r = simulate(settings(f"engine={engine}", f"strategy={strategy}", f"seed={seed}",
                              f"audience.size={size}", f"days={days}",
                              *(["strategy.burst_day=4", "budget.asks=40"]
                                if strategy == "burst" else [])))
        rows.append(r.outcome)
        hours.append(r.timeseries.unfollows.to_numpy())
    return pd.concat(rows, ignore_index=True), np.concatenate(hours)


def assert_agree(strategy: str, seeds, size: int, days: int) -> None:
    agents, agent_hours = outcomes("agents", strategy, seeds, size, days)
    arrays, array_hours = outcomes("vector", strategy, seeds, size, days)
    for column in MAIN:
        a, v = agents[column].astype(float), arrays[column].astype(float)
        diff = v.mean() - a.mean()
        se = np.sqrt(a.var(ddof=1) / len(a) + v.var(ddof=1) / len(v))
        # 99 % interval of the difference: with 12 comparisons, 95 % would cry wolf too often
        assert abs(diff) <= stats.t.ppf(0.995, 2 * len(a) - 2) * se + 1e-9, (column, diff, se)
    # the hourly unfollows: the same distribution of counts (0, 1, 2, 3+ in an hour)
    table = np.array([np.bincount(np.minimum(h, 3).astype(int), minlength=4)
                      for h in (agent_hours, array_hours)])
    keep = table.sum(axis=0) > 0
    assert stats.chi2_contingency(table[:, keep])[1] > 0.001


@pytest.mark.parametrize("strategy", ["steady", "burst"])
def test_the_engines_agree_in_distribution(strategy):
    assert_agree(strategy, range(15), size=1500, days=6)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["steady", "burst"])
def test_the_engines_agree_in_distribution_at_a_larger_scale(strategy):
    assert_agree(strategy, range(30), size=5000, days=8)
