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
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

from sim.config.compose import day_of_run
from sim.model.strategies import ASK_PLANS, BurstsDoNotFit, Designed, DesignedSettings

NAME_LENGTH = 24
NAME_PATTERN = re.compile(r"^[^\W_][\w .'-]*$")  # a letter (any alphabet) or digit first,
# then letters, digits, space . ' - _ (matplotlib leaves a label starting with _ out of a legend)
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

    def command_line(self, overrides: Sequence[str] = (), seed: int = 0) -> str:
        """The same strategy on the command line, to run it alone at home: with the class's
        settings (``overrides``: days, audience size, budget, ...) and one of its seeds."""
        values = {k: v for k, v in asdict(self).items() if k != "name"}
        return " ".join(["python -m sim", *(shlex.quote(o) for o in overrides),
                         "strategy=designed",
                         *(f"strategy.{k}={v!r}" if isinstance(v, float) else f"strategy.{k}={v}"
                           for k, v in values.items()), f"seed={seed}"])

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
    if control.kind == "percent" and said.endswith("%"):  # "50%" or "50 %"
        said = said[:-1].strip()
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
    """A name the standings can show: 1 to NAME_LENGTH letters, digits, spaces and . ' - _,
    starting with a letter or digit."""
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
    submission = Submission(**values)
    try:  # the strategy's own check, as python -m sim strategy=designed makes it
        Designed.check_settings(submission.settings(rules), rules.hours)
    except BurstsDoNotFit as error:
        control = BY_KEY[error.setting]
        raise Refused(control.key, f"{control.label} = {error.value}{control.unit} does not "
                                   f"fit: {error.why}; give at most {error.high}"
                                   f"{control.unit}.") from None
    return submission
