"""Posting strategies: each hour, what the account posts and how many people it answers.

A strategy is a small class with a ``plan(view)`` method (Axelrod's style). It sees only what
an account can see (:class:`AccountView`): the hour, its follower count, the engagement it got,
the replies waiting for an answer. It returns a :class:`Plan`. Write your own by subclassing
:class:`Strategy` in your own module and select it with
``python -m sim strategy._target_=mymodule.MyStrategy``.

Built-in strategies spend a budget given in their settings: ``posts_per_day`` value posts on
average and ``asks`` asks over the whole run. ``steady`` and ``burst`` read both from the shared
``budget`` settings, so they spend exactly the same, only at different times.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import hydra.utils
import numpy as np
from hydra.errors import InstantiationException
from omegaconf import DictConfig

from sim.config import SettingError

DAYTIME = range(8, 22)  # hours of the day a staffed account posts in


@dataclass(frozen=True)
class Plan:
    """What the account does this hour."""

    value_posts: int = 0
    asks: int = 0
    replies: int = 0


@dataclass(frozen=True)
class AccountView:
    """What the account can see when it plans an hour."""

    hour: int  # hours since the start, 0-based
    hours: int  # length of the run in hours
    followers: int
    engagements: int  # likes, replies and shares so far
    engagements_last_hour: int
    comments_waiting: int  # replies to the account that wait for an answer
    comments_new: int  # of those, the ones that arrived in the last hour

    @property
    def day(self) -> int:
        return self.hour // 24

    @property
    def hour_of_day(self) -> int:
        return self.hour % 24


def spread(count: int, slots: list[int]) -> dict[int, int]:
    """Place ``count`` posts as evenly as possible over the given hours: {hour: posts}."""
    placed: dict[int, int] = {}
    if count <= 0 or not slots:
        return placed
    step = len(slots) / count
    for i in range(count):
        hour = slots[int((i + 0.5) * step)]
        placed[hour] = placed.get(hour, 0) + 1
    return placed


def daytime_hours(start: int, end: int) -> list[int]:
    """The staffed hours in [start, end)."""
    return [h for h in range(start, end) if h % 24 in DAYTIME]


class StrategyError(RuntimeError):
    """A strategy cannot do what it was set to, or returned something that is not a plan."""


class Strategy:
    """Base class. Subclasses override :meth:`plan`; :meth:`start` sees the run's length."""

    def __init__(self, *, posts_per_day: float, asks: int, reply_share: float,
                 reply_capacity: int) -> None:
        self.posts_per_day = posts_per_day
        self.asks = asks
        self.reply_share = reply_share
        self.reply_capacity = reply_capacity
        self._reply_backlog = 0.0
        self.rng: np.random.Generator | None = None  # the model sets it, seeded from the run

    @property
    def name(self) -> str:
        return type(self).__name__

    def start(self, hours: int) -> None:
        """Called once before the first hour with the length of the run."""

    def value_posts_total(self, hours: int) -> int:
        return int(round(self.posts_per_day * hours / 24.0))

    def answer(self, view: AccountView) -> int:
        """Answer ``reply_share`` of the replies that come in, at most ``reply_capacity`` an
        hour; what capacity leaves over waits (and is dropped once it is too old)."""
        self._reply_backlog = min(self._reply_backlog + self.reply_share * view.comments_new,
                                  float(view.comments_waiting))
        n = min(int(self._reply_backlog), self.reply_capacity)
        self._reply_backlog -= n
        return n

    def plan(self, view: AccountView) -> Plan:
        """What to do this hour; the base class does nothing."""
        return Plan()


class Scheduled(Strategy):
    """A strategy that lays out its posts when the run starts (``start`` fills the
    ``values`` and ``asks`` schedules, {hour: posts}) and answers replies as it goes."""

    def start(self, hours: int) -> None:
        self.value_schedule: dict[int, int] = {}
        self.ask_schedule: dict[int, int] = {}

    def plan(self, view: AccountView) -> Plan:
        return Plan(self.value_schedule.get(view.hour, 0), self.ask_schedule.get(view.hour, 0),
                    self.answer(view))


class Steady(Scheduled):
    """Steady engagement: value posts and asks spread evenly over the day-time hours, and
    answers to the people who reply."""

    def start(self, hours: int) -> None:
        slots = daytime_hours(0, hours)
        self.value_schedule = spread(self.value_posts_total(hours), slots)
        self.ask_schedule = spread(self.asks, slots)


class Broadcast(Steady):
    """Regular posts and asks like ``steady``, but never answers anyone."""

    def answer(self, view: AccountView) -> int:
        return 0


class Silent(Strategy):
    """Posts nothing, answers nobody: the baseline of doing nothing."""


class Burst(Scheduled):
    """Dormant-then-burst: near-quiet for days, then the asks packed into a few hours.

    A share ``quiet_share`` of the value posts keeps a thin cadence over the whole run; the
    rest of the value posts and all the asks go out evenly within the burst window.
    """

    def __init__(self, *, quiet_share: float, burst_day: int, burst_hour: int,
                 burst_hours: int, **budget) -> None:
        super().__init__(**budget)
        self.quiet_share = quiet_share
        self.burst_start = burst_day * 24 + burst_hour
        self.burst_end = self.burst_start + burst_hours

    def start(self, hours: int) -> None:
        total = self.value_posts_total(hours)
        window = list(range(self.burst_start, min(self.burst_end, hours)))
        if not window:
            raise StrategyError(f"strategy {self.name}: the burst (hours {self.burst_start} to "
                                f"{self.burst_end}) falls outside the run of {hours} hours")
        outside = [h for h in daytime_hours(0, hours) if not self.burst_start <= h < self.burst_end]
        # With no staffed hour outside the burst, the quiet posts join the burst.
        quiet = int(round(self.quiet_share * total)) if outside else 0
        self.value_schedule = spread(quiet, outside)
        for hour, n in spread(total - quiet, window).items():
            self.value_schedule[hour] = self.value_schedule.get(hour, 0) + n
        self.ask_schedule = spread(self.asks, window)


def checked_plan(plan: object, strategy: Strategy) -> Plan:
    """A strategy's plan as plain whole numbers (replies at most ``reply_capacity``), or a
    :class:`StrategyError` naming the strategy when malformed. The model counts what this
    returns, never the strategy's own objects."""
    if not isinstance(plan, Plan):
        raise StrategyError(f"strategy {strategy.name}.plan() returned {plan!r}; it must return "
                            f"a sim.Plan(value_posts=..., asks=..., replies=...)")
    counts = []
    for name in ("value_posts", "asks", "replies"):
        value = getattr(plan, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise StrategyError(f"strategy {strategy.name} planned {name}={value!r}; "
                                f"it must be a whole number >= 0")
        counts.append(int(value))
    value_posts, asks, replies = counts
    return Plan(value_posts, asks, min(replies, int(strategy.reply_capacity)))


def make_strategy(cfg: DictConfig) -> Strategy:
    """Instantiate ``cfg.strategy``, or a :class:`SettingError` that says what is allowed."""
    target = cfg.strategy.get("_target_")
    allowed = ("a built-in (strategy=steady, burst, broadcast, silent, obama_2011) or an "
               "importable subclass of sim.Strategy, e.g. strategy._target_=mymodule.MyStrategy "
               "(run from the folder that holds mymodule.py)")
    try:
        strategy = hydra.utils.instantiate(cfg.strategy)
    except InstantiationException as e:
        root: BaseException = e
        while root.__cause__ is not None:
            root = root.__cause__
        reason = f"{type(root).__name__}: {str(root).strip().splitlines()[0]}"
        raise SettingError(f"Setting 'strategy._target_' = {target!r} cannot be used ({reason})."
                           f" Allowed: {allowed}.") from None
    if not isinstance(strategy, Strategy):
        raise SettingError(f"Setting 'strategy._target_' = {target!r} is not a sim.Strategy "
                           f"(it made a {type(strategy).__name__}). Allowed: {allowed}.")
    return strategy
