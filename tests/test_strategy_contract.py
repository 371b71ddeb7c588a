"""The contract every strategy keeps: every built-in (sim.model.strategies.BUILT_IN), every
scenario of conf/strategy/ (obama_2011) and the template students start from
(experiments/strategy_template.py).

- Seeded: the same seed and the same views give the same plans.
- Within budget: over a run, value posts <= round(posts_per_day x days) and asks <= asks; a plan
  is whole numbers >= 0 and answers no more replies than wait.
- A plan's five counts (value posts, asks, replies, follow-backs, unfollow-backs) are checked
  alike (``checked_plan``): a negative or non-whole count is a StrategyError naming the
  strategy; replies are capped at ``reply_capacity``.
- No look at the future: the plan for hour h does not change when the views after h differ.
  And the model shows the account only the past: the view at hour h counts the engagement of
  the hours before h, not of h itself.

The strategies are driven hour by hour with views drawn at random (hypothesis), and once
through the model on a small audience.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim.config.compose import make_strategy
from sim.config.compose import settings as compose
from sim.config.schema import strategy_names
from sim.errors import StrategyError
from sim.experiment.run import simulate
from sim.model.strategies import BUILT_IN, AccountView, Plan, Strategy, checked_plan

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "experiments" / "strategy_template.py"
NAMES = sorted(set(BUILT_IN) | set(strategy_names())) + ["template"]


def template_class() -> type[Strategy]:
    spec = importlib.util.spec_from_file_location("strategy_template", TEMPLATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [cls] = [c for c in vars(module).values()
             if isinstance(c, type) and issubclass(c, Strategy) and c is not Strategy]
    return cls


@functools.lru_cache(maxsize=None)
def _config(name: str):
    return compose("strategy=steady" if name == "template" else f"strategy={name}")


def config(name: str):
    """The settings a strategy runs with: its own file of conf/strategy/, or for the template
    the shared budget (as the tournament gives it). A copy: a test may change it."""
    return OmegaConf.create(OmegaConf.to_container(_config(name)))


def fresh(name: str, seed: int = 0) -> Strategy:
    cfg = _config(name)
    if name == "template":
        s = cfg.strategy
        strategy = template_class()(posts_per_day=s.posts_per_day, asks=s.asks,
                                    reply_share=s.reply_share, reply_capacity=s.reply_capacity)
    else:
        strategy = make_strategy(cfg)
    strategy.rng = np.random.default_rng(seed)  # as the model gives it
    return strategy


def views(hours: int, seed: int) -> list[AccountView]:
    """What an account might see over a run: a wandering audience and its engagement."""
    rng = np.random.default_rng(seed)
    followers, total, waiting, out = 2000, 0, 0, []
    last = 0
    for hour in range(hours):
        new = int(rng.poisson(rng.choice([0.2, 3.0, 20.0])))
        waiting = min(waiting + new, int(rng.integers(0, 60)))
        waiting = max(waiting, new)
        out.append(AccountView(hour=hour, hours=hours, followers=followers, engagements=total,
                               engagements_last_hour=last, comments_waiting=waiting,
                               comments_new=new))
        last = int(rng.poisson(rng.choice([0.5, 5.0, 50.0])))
        total += last
        followers = max(followers + int(rng.integers(-30, 31)), 0)
    return out


def plans(strategy: Strategy, seen: list[AccountView]) -> list[Plan]:
    strategy.start(seen[0].hours)
    return [checked_plan(strategy.plan(v), strategy) for v in seen]


def hours_of(name: str) -> int:
    return _config(name).days * 24


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=5)
@given(seed=st.integers(0, 2**32 - 1), views_seed=st.integers(0, 2**32 - 1))
def test_the_same_seed_gives_the_same_plans(name, seed, views_seed):
    seen = views(hours_of(name), views_seed)
    assert plans(fresh(name, seed), seen) == plans(fresh(name, seed), seen)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=5)
@given(seed=st.integers(0, 2**32 - 1), views_seed=st.integers(0, 2**32 - 1))
def test_a_run_stays_within_the_budget(name, seed, views_seed):
    strategy = fresh(name, seed)
    hours = hours_of(name)
    seen = views(hours, views_seed)
    made = plans(strategy, seen)
    days = hours // 24
    assert sum(p.value_posts for p in made) <= round(strategy.posts_per_day * days)
    assert sum(p.asks for p in made) <= strategy.asks
    for p, v in zip(made, seen):
        assert p.replies <= min(v.comments_waiting, strategy.reply_capacity)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=5)
@given(data=st.data())
def test_the_plan_for_an_hour_does_not_look_at_later_hours(name, data):
    hours = hours_of(name)
    h = data.draw(st.integers(0, hours - 1), label="hour")
    first, second = (data.draw(st.integers(0, 2**32 - 1), label=x) for x in ("past", "future"))
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    past = views(hours, first)
    other = past[:h + 1] + views(hours, second)[h + 1:]  # the same until h, different after
    assert plans(fresh(name, seed), past)[:h + 1] == plans(fresh(name, seed), other)[:h + 1]


@pytest.mark.parametrize("name", NAMES)
def test_through_the_model_a_run_is_seeded_and_within_budget(name):
    """200 followers for 8 days (obama_2011's burst is on day 7)."""
    def run(seed: int):
        cfg = config(name)
        cfg.audience.size, cfg.days, cfg.seed = 200, 8, seed
        strategy = fresh(name) if name == "template" else None
        return simulate(cfg, strategy=strategy).timeseries, cfg

    (a, cfg), (b, _) = run(3), run(3)
    assert a[["posts", "asks", "replies_given"]].equals(b[["posts", "asks", "replies_given"]])
    value_posts = int(a.posts.sum() - a.asks.sum())
    assert value_posts <= round(cfg.strategy.posts_per_day * cfg.days)
    assert int(a.asks.sum()) <= cfg.strategy.asks


class Recorder(Strategy):
    """Steady's plans, with every view it was shown kept."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.seen: list[AccountView] = []

    def plan(self, view: AccountView) -> Plan:
        self.seen.append(view)
        return Plan(value_posts=1 if view.hour_of_day == 12 else 0,
                    asks=1 if view.hour_of_day == 19 else 0, replies=view.comments_waiting)


def test_the_model_shows_the_account_only_the_past():
    strategy = Recorder(posts_per_day=1, asks=3, reply_share=1, reply_capacity=50)
    ts = simulate(compose("audience.size=300", "days=3", "behaviour.engagement.comment=0.2"),
                  strategy=strategy).timeseries
    assert [v.hour for v in strategy.seen] == list(ts.hour)
    engagements = ts.engagements.to_numpy()
    for v in strategy.seen:
        assert v.engagements == engagements[:v.hour].sum()
        assert v.engagements_last_hour == (engagements[v.hour - 1] if v.hour else 0)
        assert v.followers == (ts.followers[v.hour - 1] if v.hour else 300)
    assert engagements.sum() > 0 and ts.comments.sum() > 0


# --- a plan's counts ----------------------------------------------------------------------------

COUNTS = ("value_posts", "asks", "replies", "follow_backs", "unfollow_backs")


def test_a_plan_has_five_counts_that_default_to_zero():
    assert tuple(f.name for f in dataclasses.fields(Plan)) == COUNTS
    assert Plan() == Plan(0, 0, 0, 0, 0)


def test_a_checked_plan_keeps_every_count_and_caps_replies():
    strategy = fresh("steady")
    capacity = strategy.reply_capacity
    plan = Plan(value_posts=2, asks=1, replies=capacity + 7, follow_backs=3,
                unfollow_backs=4)
    checked = checked_plan(plan, strategy)
    assert checked == Plan(2, 1, capacity, 3, 4)
    numpy_counts = Plan(*(np.int64(k) for k in (2, 1, 0, 3, 4)))
    assert checked_plan(numpy_counts, strategy) == Plan(2, 1, 0, 3, 4)
    assert all(type(getattr(checked_plan(numpy_counts, strategy), name)) is int
               for name in COUNTS)


@pytest.mark.parametrize("name", COUNTS)
@pytest.mark.parametrize("value", [-1, 1.5, 2.0, True, "2", None])
def test_a_count_that_is_not_a_whole_number_of_at_least_zero_is_refused(name, value):
    strategy = fresh("steady")
    with pytest.raises(StrategyError, match=rf"Steady planned {name}={value!r}; it must be a "
                                            r"whole number >= 0"):
        checked_plan(Plan(**{name: value}), strategy)


def test_a_plan_that_is_not_a_plan_is_refused():
    with pytest.raises(StrategyError, match="must return a sim.Plan"):
        checked_plan((1, 0, 0), fresh("steady"))
