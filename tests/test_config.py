"""Settings: every group composes, the schema rejects unknown keys and wrong types, ranges are
checked with a message that names the setting and what is allowed."""

from __future__ import annotations

import hydra.utils
import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError, ValidationError

from sim.config.checks import check
from sim.config.compose import make_strategy, settings
from sim.config.schema import CONF_DIR
from sim.errors import SettingError
from sim.model.strategies import Strategy

STRATEGIES = sorted(p.stem for p in (CONF_DIR / "strategy").glob("*.yaml"))
AUDIENCES = sorted(p.stem for p in (CONF_DIR / "audience").glob("*.yaml"))


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_composes_checks_and_instantiates(name):
    cfg = settings(f"strategy={name}")
    check(cfg)
    assert isinstance(hydra.utils.instantiate(cfg.strategy), Strategy)


@pytest.mark.parametrize("name", AUDIENCES)
def test_every_audience_composes_and_checks(name):
    cfg = settings(f"audience={name}")
    check(cfg)
    assert cfg.audience.name == name


def test_built_ins_are_all_there():
    assert {"steady", "burst", "broadcast", "silent", "obama_2011"} <= set(STRATEGIES)


def test_steady_and_burst_share_the_budget():
    steady, burst = settings("strategy=steady"), settings("strategy=burst")
    for key in ("posts_per_day", "asks"):
        assert steady.strategy[key] == burst.strategy[key] == steady.budget[key]


def test_unknown_key_is_rejected_by_the_schema():
    with pytest.raises((ConfigCompositionException, ConfigKeyError)):
        settings("audience.sise=100")


def test_wrong_type_is_rejected_by_the_schema():
    with pytest.raises((ConfigCompositionException, ValidationError)):
        settings("days=many")


@pytest.mark.parametrize("override, setting, allowed", [
    ("audience.attention.reads_per_day=-5", "audience.attention.reads_per_day", "0 < value"),
    ("behaviour.engagement.like=1.5", "behaviour.engagement.like", "0.0 <= value <= 1.0"),
    ("audience.inactive_share=-0.1", "audience.inactive_share", "0.0 <= value <= 1.0"),
    ("days=0", "days", "1 <= value"),
    ("seed=-1", "seed", "0 <= value"),
    ("engine=gpu", "engine", "one of auto, agents, vector"),
    ("threads=-1", "threads", "0 <= value"),
])
def test_out_of_range_names_the_setting_and_what_is_allowed(override, setting, allowed):
    cfg = settings(override)
    with pytest.raises(SettingError) as e:
        check(cfg)
    assert f"'{setting}'" in str(e.value) and allowed in str(e.value)


def test_the_default_burst_is_placed_relative_to_the_runs_length():
    for days, day in ((30, 20), (10, 6), (2, 1), (1, 0)):
        cfg = settings("strategy=burst", f"days={days}")
        check(cfg)
        assert cfg.strategy.burst_day == day


def test_a_burst_set_after_the_run_is_refused():
    cfg = settings("strategy=burst", "strategy.burst_day=12", "days=10")
    with pytest.raises(SettingError, match=r"'strategy.burst_day' = 12 .*0 <= value <= 9"):
        check(cfg)
    cfg = settings("strategy=burst", "strategy.burst_day=9", "strategy.burst_hours=20", "days=10")
    with pytest.raises(SettingError, match="strategy.burst_hours.*after the run ends"):
        check(cfg)


def test_a_setting_of_another_strategy_is_refused_unless_ignored():
    cfg = settings("strategy=steady", "+strategy.burst_day=10")
    with pytest.raises(SettingError, match="belongs to strategy=burst; strategy=steady has no"):
        check(cfg)
    check(cfg, other_strategies="ignore")  # a sweep over steady and burst


def test_rhythm_needs_24_hours():
    cfg = settings("audience.attention.rhythm=[1,2,3]")
    with pytest.raises(SettingError, match="rhythm"):
        check(cfg)


def test_unknown_strategy_class_is_a_setting_error():
    cfg = settings("strategy._target_=nowhere.Nothing")
    with pytest.raises(SettingError, match="strategy._target_.*nowhere.Nothing"):
        make_strategy(cfg)


def test_a_class_that_is_not_a_strategy_is_refused():
    cfg = settings("strategy._target_=collections.OrderedDict")
    with pytest.raises(SettingError, match="not a subclass of sim.Strategy"):
        make_strategy(cfg)
