"""What a student submits in class mode: a strategy as data, never code.

A submission is a name and the values of a few controls (value posts per day, asks, when the
asks go out, bursts, replies answered). It runs as the built-in strategy ``designed``
(:class:`sim.model.strategies.Designed`), so nothing a student sends is ever executed.
:func:`read` turns a student's form into a :class:`Submission` or refuses it with
:class:`Refused`: one sentence that names the control, the value and what is allowed, the
budget read from the class's settings (``budget.posts_per_day``, ``budget.asks``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from sim.config.compose import day_of_run
from sim.errors import SettingError
from sim.model.strategies import ASK_PLANS, Designed, DesignedSettings

NAME_LENGTH = 24
NAME_PATTERN = re.compile(r"^\w[\w .'-]*$")  # letters (any alphabet), digits, space . ' - _
RESERVED = ("steady", "burst")  # the reference strategies' names in the standings
PLAN_WORDS = {"spread": "spread over the day-time hours",
              "daily": "once a day, at the hour below",
              "bursts": "in bursts"}


class Refused(ValueError):
    """A submission the class does not take; ``field`` names the control (or "")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ClassRules:
    """What every submission must keep to: the shared budget and the run's length."""

    posts_per_day: float  # budget.posts_per_day
    asks: int  # budget.asks
    days: int
    reply_capacity: int  # the most replies an hour, as steady's

    @classmethod
    def from_settings(cls, cfg) -> ClassRules:
        return cls(float(cfg.budget.posts_per_day), int(cfg.budget.asks), int(cfg.days),
                   int(cfg.strategy.reply_capacity))

    @property
    def hours(self) -> int:
        return self.days * 24

    def budget_words(self) -> str:
        return (f"{plural(self.posts_per_day, 'value post')} a day and "
                f"{plural(self.asks, 'ask')} over {plural(self.days, 'day')}")


def plural(n: float, word: str) -> str:
    return f"{n:g} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Submission:
    """A student's strategy: the settings of ``designed`` (shares as fractions) and a name."""

    name: str
    posts_per_day: float
    asks: int
    ask_plan: str
    ask_hour: int
    first_burst_day: int
    bursts: int
    days_between: int
    burst_length: int
    value_in_bursts: float
    reply_share: float

    def settings(self, rules: ClassRules) -> dict:
        """The keyword settings of :class:`Designed` that run it."""
        values = {k: v for k, v in asdict(self).items() if k != "name"}
        return values | {"reply_capacity": rules.reply_capacity}

    def strategy(self, rules: ClassRules) -> Designed:
        return Designed(**self.settings(rules))

    def command_line(self) -> str:
        """The same strategy on the command line, to run it alone at home."""
        values = {k: v for k, v in asdict(self).items() if k != "name"}
        return "python -m sim strategy=designed " + " ".join(
            f"strategy.{k}={v:g}" if isinstance(v, float) else f"strategy.{k}={v}"
            for k, v in values.items())

    def describe(self) -> str:
        """In words, for the student's and the teacher's pages."""
        asks = plural(self.asks, "ask")
        if self.ask_plan == "spread":
            when = f"{asks} spread over the day-time hours"
        elif self.ask_plan == "daily":
            when = f"{asks} once a day at {self.ask_hour}:00"
        else:
            every = f", one every {plural(self.days_between, 'day')}" if self.bursts > 1 else ""
            when = (f"{asks} in {plural(self.bursts, 'burst')} of "
                    f"{self.burst_length} h from day {self.first_burst_day}, "
                    f"{self.ask_hour}:00{every}, with {self.value_in_bursts:.0%} of the value "
                    f"posts")
        return (f"{plural(self.posts_per_day, 'value post')} a day; {when}; answers "
                f"{self.reply_share:.0%} of replies")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> Submission:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


# --- the controls and their ranges ---------------------------------------------------------------

@dataclass(frozen=True)
class Control:
    """One control of the student's form: how it reads, and its range for this class."""

    key: str
    label: str
    kind: str  # "whole", "number", "percent" (stored as a share) or "choice"
    unit: str = ""


CONTROLS = (
    Control("posts_per_day", "Value posts per day", "number"),
    Control("asks", "Asks over the run", "whole"),
    Control("ask_plan", "When the asks go out", "choice"),
    Control("ask_hour", "Hour of the daily asks, or of each burst's start", "whole", ":00"),
    Control("bursts", "Number of bursts", "whole"),
    Control("first_burst_day", "First burst on day", "whole"),
    Control("days_between", "Days from one burst to the next", "whole"),
    Control("burst_length", "Hours each burst lasts", "whole", " h"),
    Control("value_in_bursts", "Value posts sent within the bursts", "percent", " %"),
    Control("reply_share", "Replies answered", "percent", " %"),
)
BY_KEY = {c.key: c for c in CONTROLS}
USED_BY = {"ask_hour": ("daily", "bursts"), "bursts": ("bursts",),
           "first_burst_day": ("bursts",), "days_between": ("bursts",),
           "burst_length": ("bursts",), "value_in_bursts": ("bursts",)}


def _declared(key: str) -> tuple[float | None, float | None]:
    meta = next(f.metadata for f in fields(DesignedSettings) if f.name == key)
    return meta.get("lo"), meta.get("hi")


def bounds(key: str, rules: ClassRules) -> tuple[float, float]:
    """The control's range in this class: the setting's declared range, narrowed by the budget
    and the length of the run."""
    lo, hi = _declared(key)
    hi = {"posts_per_day": rules.posts_per_day, "asks": rules.asks,
          "first_burst_day": rules.days - 1, "bursts": rules.days,
          "days_between": rules.days, "burst_length": rules.hours}.get(key, hi)
    return float(lo or 0), float(hi)


def defaults(rules: ClassRules) -> dict:
    """The form's values before a student changes anything: ``designed``'s defaults, which
    make it ``steady`` (the whole budget, asks spread, half the replies answered)."""
    return dict(name="", posts_per_day=rules.posts_per_day, asks=rules.asks, ask_plan="spread",
                ask_hour=12, first_burst_day=day_of_run(0.67, rules.days),
                bursts=1, days_between=1, burst_length=min(6, rules.hours),
                value_in_bursts=0.0, reply_share=0.5)


def allowed(control: Control, rules: ClassRules) -> str:
    """What the control takes, in words."""
    if control.kind == "choice":
        return "one of " + ", ".join(f"'{p}'" for p in ASK_PLANS)
    lo, hi = bounds(control.key, rules)
    if control.kind == "percent":
        return f"a number from {lo * 100:g} to {hi * 100:g} (%)"
    budget = " (the class budget)" if control.key in ("posts_per_day", "asks") else ""
    whole = "a whole number" if control.kind == "whole" else "a number"
    return f"{whole} from {lo:g} to {hi:g}{budget}"


def _number(control: Control, text: str, rules: ClassRules) -> float | int:
    said = text.strip()
    try:
        value = float(said.replace(",", ".") if said.count(",") == 1 and "." not in said
                      else said)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Refused(control.key, f"{control.label} = '{said}' is not a number: give "
                                   f"{allowed(control, rules)}.")
    if control.kind == "whole" and value != int(value):
        raise Refused(control.key, f"{control.label} = {said} is not a whole number: give "
                                   f"{allowed(control, rules)}.")
    share = value / 100 if control.kind == "percent" else value
    lo, hi = bounds(control.key, rules)
    if not lo <= share <= hi:
        over = " is over the class budget" if control.key in ("posts_per_day", "asks") and \
            share > hi else " is not allowed"
        raise Refused(control.key, f"{control.label} = {said}{control.unit}{over}: give "
                                   f"{allowed(control, rules)}.")
    return int(value) if control.kind == "whole" else share


def read_name(text: str) -> str:
    """A name the standings can show: 1 to 24 letters, digits, spaces and . ' - _."""
    name = " ".join(str(text).split())
    if not name:
        raise Refused("name", "Name is empty: give your strategy a name of 1 to "
                              f"{NAME_LENGTH} letters, digits or spaces.")
    if len(name) > NAME_LENGTH:
        raise Refused("name", f"Name '{name[:40]}' is too long ({len(name)} characters): give "
                              f"at most {NAME_LENGTH}.")
    if not NAME_PATTERN.match(name):
        raise Refused("name", f"Name '{name[:40]}' is not allowed: use letters, digits, "
                              f"spaces and . ' - _ only, starting with a letter or digit.")
    if name.casefold() in RESERVED:
        raise Refused("name", f"Name '{name}' is taken by a reference strategy: choose "
                              f"another name.")
    return name


def read(form: Mapping[str, str], rules: ClassRules) -> Submission:
    """A student's form as a :class:`Submission`, or :class:`Refused` with the first reason.
    Controls the chosen plan does not use are not judged; they keep the class's defaults."""
    name = read_name(form.get("name", ""))
    plan = str(form.get("ask_plan", "")).strip()
    if plan not in ASK_PLANS:
        raise Refused("ask_plan", f"{BY_KEY['ask_plan'].label} = '{plan[:40]}' is not allowed: "
                                  f"give {allowed(BY_KEY['ask_plan'], rules)}.")
    values: dict = {"name": name, "ask_plan": plan}
    fallback = defaults(rules)
    for control in CONTROLS:
        if control.key == "ask_plan":
            continue
        if plan not in USED_BY.get(control.key, ASK_PLANS):
            values[control.key] = fallback[control.key]
            continue
        text = form.get(control.key)
        if text is None or not str(text).strip():
            raise Refused(control.key, f"{control.label} is missing: give "
                                       f"{allowed(control, rules)}.")
        values[control.key] = _number(control, str(text), rules)
    if plan == "bursts":
        _check_bursts(values, rules)
    submission = Submission(**values)
    try:  # the strategy's own check, as python -m sim strategy=designed would make it
        Designed.check_settings(submission.settings(rules), rules.hours)
    except SettingError as error:
        raise Refused("", f"This strategy cannot run: {error}") from None
    return submission


def _check_bursts(values: dict, rules: ClassRules) -> None:
    """Bursts that overlap or outlast the run, refused with what would fit."""
    length, gap, count = values["burst_length"], values["days_between"], values["bursts"]
    first = values["first_burst_day"] * 24 + values["ask_hour"]
    room = rules.hours - first
    if length > room:
        raise Refused("burst_length", f"Hours each burst lasts = {length} does not fit: a "
                                      f"burst from day {values['first_burst_day']}, "
                                      f"{values['ask_hour']}:00 can last at most {room} h in a "
                                      f"{rules.days}-day run.")
    if count > 1 and length > gap * 24:
        raise Refused("burst_length", f"Hours each burst lasts = {length} would run into the "
                                      f"next burst, {gap} day(s) later: give at most "
                                      f"{gap * 24} h, or more days between bursts.")
    fit = 1 + (room - length) // (gap * 24)
    if count > fit:
        raise Refused("bursts", f"Number of bursts = {count} does not fit: from day "
                                f"{values['first_burst_day']}, {gap} day(s) apart, at most "
                                f"{fit} end within the {rules.days}-day run; give fewer, start "
                                f"earlier or space them closer.")
