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
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from sim.errors import SettingError, StrategyError
from sim.model.ranges import PROBABILITY, setting

DAYTIME = range(8, 22)  # hours of the day a staffed account posts in


@dataclass(frozen=True)
class Plan:
    """What the account does this hour."""

    value_posts: int = 0
    asks: int = 0
    replies: int = 0
    follow_backs: int = 0  # of the followers answered this hour, follow back this many
    unfollow_backs: int = 0  # stop following back this many followers (chosen at random)


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


@dataclass
class StrategySettings:
    """Settings every strategy accepts: its budget of posts and asks, and how it replies.
    A strategy with settings of its own declares a subclass as its ``Settings``."""

    _target_: str = setting(doc="the strategy's class, e.g. sim.model.strategies.Steady")
    posts_per_day: float = setting(0, doc="useful (value) posts per day, on average")
    asks: int = setting(0, doc="asks (calls to action) over the whole run")
    reply_share: float = setting(**PROBABILITY, doc="share of the followers who reply that it answers")
    reply_capacity: int = setting(0, doc="most replies the account gives in an hour")


BUILT_IN: dict[str, type[Strategy]] = {}  # name: class; conf/strategy/NAME.yaml configures it


def built_in_name(cls: type) -> str | None:
    """The name a built-in strategy is registered under (None for a user's class)."""
    return next((name for name, known in BUILT_IN.items() if known is cls), None)


def built_in(cls: type[Strategy]) -> type[Strategy]:
    """Register a built-in strategy under its class name in lower case. Adding a built-in is
    this class and a YAML file in conf/strategy/ that names it."""
    BUILT_IN[cls.__name__.lower()] = cls
    return cls


class Strategy:
    """Base class. Subclasses override :meth:`plan`; :meth:`start` sees the run's length.
    ``Settings`` declares the settings the constructor takes, with their ranges."""

    Settings: ClassVar[type] = StrategySettings

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

    @classmethod
    def settings_names(cls) -> list[str]:
        """The settings this strategy takes (the keys of its ``Settings``, ``_target_`` aside)."""
        return [f.name for f in fields(cls.Settings) if not f.name.startswith("_")]

    @classmethod
    def check_settings(cls, values: dict[str, Any], hours: int) -> None:
        """Raise :class:`SettingError` if settings that are each in range cannot work together
        in a run of ``hours`` hours. The base class has nothing to check."""

    @classmethod
    def fit_settings(cls, values: dict[str, Any], hours: int) -> list[str]:
        """Change ``values`` in place so that they fit a run of ``hours`` hours (for faces where
        no slider position may fail); notes on what changed."""
        return []

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


@built_in
class Steady(Scheduled):
    """Steady engagement: value posts and asks spread evenly over the day-time hours, and
    answers to the people who reply."""

    def start(self, hours: int) -> None:
        slots = daytime_hours(0, hours)
        self.value_schedule = spread(self.value_posts_total(hours), slots)
        self.ask_schedule = spread(self.asks, slots)


@built_in
class Broadcast(Steady):
    """Regular posts and asks like ``steady``, but never answers anyone."""

    def answer(self, view: AccountView) -> int:
        return 0


@built_in
class Silent(Strategy):
    """Posts nothing, answers nobody: the baseline of doing nothing."""


def in_bursts(total: int, asks: int, window: list[int], quiet_share: float,
              hours: int) -> tuple[dict[int, int], dict[int, int]]:
    """(value schedule, ask schedule) of a bursty strategy: a share ``quiet_share`` of the
    ``total`` value posts spread over the day-time hours outside ``window`` (the bursts'
    hours), the rest of them and all the asks evenly within it. With no day-time hour outside
    the bursts, the quiet posts join the bursts."""
    inside = set(window)
    outside = [h for h in daytime_hours(0, hours) if h not in inside]
    quiet = int(round(quiet_share * total)) if outside else 0
    values = spread(quiet, outside)
    for hour, n in spread(total - quiet, window).items():
        values[hour] = values.get(hour, 0) + n
    return values, spread(asks, window)


class BurstsDoNotFit(SettingError):
    """Bursts that overlap or outlast the run: ``setting`` (a setting of ``designed``) is at
    fault, at ``value``; ``low`` to ``high`` would fit. ``why`` and ``advice`` are phrases the
    student's page reuses."""

    def __init__(self, setting: str, value: int, low: int, high: int, why: str,
                 advice: str) -> None:
        super().__init__(
            f"Setting 'strategy.{setting}' = {value} is not allowed: {why}. Allowed: "
            f"{low} <= value <= {high}. Change it on the command line (e.g. "
            f"strategy.{setting}={high}), {advice}, or run longer (days=...).")
        self.setting, self.value, self.low, self.high = setting, value, low, high
        self.why, self.advice = why, advice


@dataclass
class BurstSettings(StrategySettings):
    """Dormant-then-burst: near-quiet for days, then asks packed into a few hours."""

    quiet_share: float = setting(**PROBABILITY, doc="share of value posts kept at the quiet cadence")
    burst_day: int = setting(0, doc="day the burst starts (0 = first day)")
    burst_hour: int = setting(0, 23, doc="hour of day the burst starts")
    burst_hours: int = setting(1, doc="length of the burst in hours")


@built_in
class Burst(Scheduled):
    """Dormant-then-burst: near-quiet for days, then the asks packed into a few hours.

    A share ``quiet_share`` of the value posts keeps a thin cadence over the whole run; the
    rest of the value posts and all the asks go out evenly within the burst window.
    """

    Settings = BurstSettings

    @classmethod
    def check_settings(cls, values: dict[str, Any], hours: int) -> None:
        """The burst must start and end within the run."""
        day, hour, length = values["burst_day"], values["burst_hour"], values["burst_hours"]
        start, days = day * 24 + hour, hours // 24
        if start >= hours:
            raise SettingError(
                f"Setting 'strategy.burst_day' = {day} is not allowed. The burst would start on "
                f"day {day}, {hour}:00, after the run ends ({days} days: days 0 to {days - 1}). "
                f"Allowed: 0 <= value <= {days - 1}, with the burst ending within the run. "
                f"Change it on the command line (e.g. strategy.burst_day={max(days * 2 // 3, 0)})"
                f" or run longer (days=...).")
        if start + length > hours:
            raise SettingError(
                f"Setting 'strategy.burst_hours' = {length} is not allowed. The burst (day {day}, "
                f"{hour}:00, {length} hours) ends at hour {start + length}, after the run ends "
                f"({days} days = {hours} hours). Allowed: 1 <= value <= {hours - start}. Change "
                f"it on the command line (e.g. strategy.burst_hours={hours - start}), start it "
                f"earlier (strategy.burst_day=...) or run longer (days=...).")

    @classmethod
    def fit_settings(cls, values: dict[str, Any], hours: int) -> list[str]:
        """Move a burst that starts after the run to the last day; cut one that outlasts it."""
        notes, days = [], hours // 24
        if values["burst_day"] >= days:
            notes.append(f"The burst was set for day {values['burst_day']}, but the run has "
                         f"{days} days (0 to {days - 1}): it starts on day {days - 1} instead.")
            values["burst_day"] = days - 1
        room = hours - (values["burst_day"] * 24 + values["burst_hour"])
        if values["burst_hours"] > room:
            notes.append(f"A {values['burst_hours']}-hour burst from day {values['burst_day']}, "
                         f"{values['burst_hour']}:00 would outlast the run: it is cut to {room} "
                         f"hours.")
            values["burst_hours"] = room
        return notes

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
        self.value_schedule, self.ask_schedule = in_bursts(total, self.asks, window,
                                                           self.quiet_share, hours)


ASK_PLANS = ("spread", "daily", "bursts")


@dataclass
class DesignedSettings(StrategySettings):
    """A strategy built from controls, not code (class mode's students design one): when the
    asks go out, how much of the value posts go with them, how many replies it answers."""

    ask_plan: str = setting(choices=ASK_PLANS, doc="when the asks go out: spread over the "
                            "day-time hours, daily at ask_hour, or in bursts")
    ask_hour: int = setting(0, 23, doc="hour of day of the daily asks and of each burst's start")
    first_burst_day: int = setting(0, doc="day the first burst starts (0 = first day)")
    bursts: int = setting(1, doc="how many bursts")
    days_between: int = setting(1, doc="days from one burst's start to the next's")
    burst_length: int = setting(1, doc="hours each burst lasts")
    value_in_bursts: float = setting(**PROBABILITY, doc="share of the value posts that go out "
                                     "in the bursts (the rest spread over the day-time hours)")


@built_in
class Designed(Scheduled):
    """A strategy designed with controls (class mode's student page), run like any built-in:
    ``python -m sim strategy=designed strategy.ask_plan=bursts strategy.bursts=3``.

    The value posts are spread over the day-time hours, except a share ``value_in_bursts``
    that goes out within the bursts. The asks are spread over the day-time hours
    (``spread``), go out once a day at ``ask_hour`` (``daily``; several in that hour when
    there are more asks than days), or evenly within ``bursts`` bursts of ``burst_length``
    hours, the first on day ``first_burst_day`` at ``ask_hour``, one every ``days_between``
    days (``bursts``). It spends its whole budget: with ``spread`` it is ``steady``; one burst
    with ``value_in_bursts`` 0.75 and no replies is ``burst``.
    """

    Settings = DesignedSettings

    @staticmethod
    def burst_starts(values: dict[str, Any]) -> list[int]:
        """The hours the bursts start."""
        return [(values["first_burst_day"] + i * values["days_between"]) * 24
                + values["ask_hour"] for i in range(values["bursts"])]

    @classmethod
    def check_settings(cls, values: dict[str, Any], hours: int) -> None:
        """With ``bursts``: the first burst starts and ends within the run, the bursts do not
        overlap and the last ends within the run; else :class:`BurstsDoNotFit`, naming the
        setting at fault."""
        if values["ask_plan"] != "bursts":
            return
        length, gap = values["burst_length"], values["days_between"]
        first, days = cls.burst_starts(values)[0], hours // 24
        if first >= hours:
            raise BurstsDoNotFit(
                "first_burst_day", values["first_burst_day"], 0, days - 1,
                f"the run has {days} days (0 to {days - 1})", "start the bursts earlier")
        if first + length > hours:
            raise BurstsDoNotFit(
                "burst_length", length, 1, hours - first,
                f"a burst from day {values['first_burst_day']}, {values['ask_hour']}:00 can "
                f"last at most {hours - first} hours in a {days}-day run",
                "make it shorter or start it earlier")
        if values["bursts"] > 1 and length > gap * 24:
            raise BurstsDoNotFit(
                "burst_length", length, 1, gap * 24,
                f"bursts start every {gap} day(s), so a burst of {length} hours would run "
                f"into the next", "make it shorter or space the bursts further")
        fit = 1 + (hours - length - first) // (gap * 24)
        if values["bursts"] > fit:
            raise BurstsDoNotFit(
                "bursts", values["bursts"], 1, fit,
                f"from day {values['first_burst_day']}, {gap} day(s) apart, at most {fit} "
                f"end within the {days}-day run", "give fewer, start earlier or space them "
                "closer")

    @classmethod
    def fit_settings(cls, values: dict[str, Any], hours: int) -> list[str]:
        """Bursts that would not fit: fewer of them, the first on the last day at the latest,
        each no longer than the gap between them or the rest of the run."""
        if values["ask_plan"] != "bursts":
            return []
        notes, days = [], hours // 24
        if values["first_burst_day"] >= days:
            notes.append(f"The first burst was set for day {values['first_burst_day']}, but "
                         f"the run has {days} days (0 to {days - 1}): it starts on day "
                         f"{days - 1} instead.")
            values["first_burst_day"] = days - 1
        if values["bursts"] > 1:
            gap = values["days_between"] * 24
            if values["burst_length"] > gap:
                notes.append(f"Bursts {values['days_between']} day(s) apart last at most {gap} "
                             f"hours: each is cut to {gap}.")
                values["burst_length"] = gap
            fit = 1 + (hours - values["burst_length"] - cls.burst_starts(values)[0]) // gap
            if fit < values["bursts"]:
                notes.append(f"{values['bursts']} bursts do not fit in the run: {max(fit, 1)} "
                             f"go out instead.")
                values["bursts"] = max(fit, 1)
        room = hours - cls.burst_starts(values)[0]
        if values["bursts"] == 1 and values["burst_length"] > room:
            notes.append(f"A {values['burst_length']}-hour burst would outlast the run: it is "
                         f"cut to {room} hours.")
            values["burst_length"] = room
        return notes

    def __init__(self, *, ask_plan: str, ask_hour: int, first_burst_day: int, bursts: int,
                 days_between: int, burst_length: int, value_in_bursts: float,
                 **budget) -> None:
        super().__init__(**budget)
        self.ask_plan, self.ask_hour = ask_plan, ask_hour
        self.first_burst_day, self.bursts, self.days_between = first_burst_day, bursts, days_between
        self.burst_length, self.value_in_bursts = burst_length, value_in_bursts

    def start(self, hours: int) -> None:
        total, daytime = self.value_posts_total(hours), daytime_hours(0, hours)
        self.value_schedule = spread(total, daytime)
        if self.ask_plan == "spread":
            self.ask_schedule = spread(self.asks, daytime)
        elif self.ask_plan == "daily":
            self.ask_schedule = spread(self.asks, [day * 24 + self.ask_hour
                                                   for day in range(hours // 24)])
        elif self.ask_plan == "bursts":
            window = sorted({h for start in self.burst_starts(vars(self))
                             for h in range(start, min(start + self.burst_length, hours))})
            if not window:
                raise StrategyError(f"strategy {self.name}: its bursts fall outside the run "
                                    f"of {hours} hours")
            self.value_schedule, self.ask_schedule = in_bursts(
                total, self.asks, window, 1 - self.value_in_bursts, hours)
        else:
            raise StrategyError(f"strategy {self.name}: ask_plan {self.ask_plan!r} is not one "
                                f"of {', '.join(ASK_PLANS)}")


PLAN_COUNTS = ("value_posts", "asks", "replies", "follow_backs", "unfollow_backs")


def checked_plan(plan: object, strategy: Strategy) -> Plan:
    """A strategy's plan as plain whole numbers (replies at most ``reply_capacity``), or a
    :class:`StrategyError` naming the strategy when malformed. The model counts what this
    returns, never the strategy's own objects."""
    if not isinstance(plan, Plan):
        raise StrategyError(f"strategy {strategy.name}.plan() returned {plan!r}; it must return "
                            f"a sim.Plan(value_posts=..., asks=..., replies=..., follow_backs=..., unfollow_backs=...)")
    counts = []
    for name in PLAN_COUNTS:
        value = getattr(plan, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise StrategyError(f"strategy {strategy.name} planned {name}={value!r}; "
                                f"it must be a whole number >= 0")
        counts.append(int(value))
    value_posts, asks, replies, follow_backs, unfollow_backs = counts
    return Plan(value_posts, asks, min(replies, int(strategy.reply_capacity)), follow_backs,
                unfollow_backs)
