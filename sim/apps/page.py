"""A classroom page: watch an audience answer the account's posting strategy, hour by hour.

Start it with ``python -m sim.app`` and open the address it prints. The sidebar holds the
settings, each with its value and unit in a box that takes typing; changing one starts the run
again at once, so the page always runs what the sidebar says. Step runs a day and ▶ plays to
the end, where both runs stop at their last hour. With "compare with" set, a second run of
another strategy on the same audience and seed steps in lock-step, and the headline, every
chart, the squares and the table show both.

The page drives the array engine (:class:`sim.model.array_engine.VectorAudience`) on one thread:
at its 20,000 followers a frame's hours take milliseconds and drawing takes the rest. An error
while drawing or stepping is shown as one sentence in the page (the traceback goes to the
server's log), never in place of the page. The followers' rules stay in :mod:`sim.model.rules`.
"""

from __future__ import annotations

import functools
import html
import io
import logging
import math
import os
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import solara
import solara.lab
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from omegaconf import DictConfig

from sim.config.checks import check, fit_strategy
from sim.config.compose import make_strategy, settings
from sim.config.schema import strategy_names
from sim.model import array_engine
from sim.model.array_engine import FollowerRef, VectorAudience
from sim.model.rules import Rules, credit, unfollow_hazard
from sim.model.simulation import Audience
from sim.model.strategies import BUILT_IN, Strategy

log = logging.getLogger(__name__)

TITLE = "How an audience answers a posting strategy"
# Strategies the page does not offer: its comparison is "the same audience and seed" and its
# budget controls are "the budget both strategies spend", which holds only for strategies that
# take the page's budget and platform. obama_2011 (a ``@package _global_`` case) brings its own
# platform (twitter_2011, no mute), days and asks (101); designed (class mode's strategy) is
# steady unless its own controls (ask plan, bursts) are set, and the page has none of them.
# tests/test_app.py checks that every strategy offered follows the page's platform and asks.
NOT_ON_PAGE = ("obama_2011", "designed")
STRATEGIES = tuple(s for s in strategy_names() if s not in NOT_ON_PAGE)  # conf/strategy/'s others
SAMPLE = 400  # followers shown as squares: a 20 x 20 grid
RENDER_EVERY = 24  # hours in a Step and in a frame of ▶: a day, so a run ends on a frame
PAUSE = 0.05  # seconds between frames of ▶, for the browser to show each

# --- the model with keyword settings ------------------------------------------------------------

_compose_lock = threading.Lock()  # Hydra's composition is global state; visitors share it


def config_defaults() -> dict:
    """The controls' starting values that the settings (conf/) define: the budget, days, the
    burst's day and length (burst's), the share of replies answered (steady's), reading and
    reciprocity. Read once, so that the page starts where ``python -m sim`` does."""
    with _compose_lock:
        burst, steady = settings("strategy=burst"), settings("strategy=steady")
    return dict(days=int(burst.days), posts_per_day=float(burst.budget.posts_per_day),
                asks=int(burst.budget.asks), burst_day=int(burst.strategy.burst_day),
                burst_hours=int(burst.strategy.burst_hours),
                reply_share=float(steady.strategy.reply_share),
                reads_per_day=float(burst.audience.attention.reads_per_day),
                sensitivity=float(burst.behaviour.reciprocity.sensitivity))


# the page's own choices (a classroom-sized audience, the pair it opens on, a seed), then conf/'s
DEFAULTS = dict(strategy="burst", compare_with="steady", followers=20_000, seed=0,
                **config_defaults())


def compose(strategy: str, followers: int, days: int, posts_per_day: float, asks: int,
            burst_day: int, burst_hours: int, reply_share: float, reads_per_day: float,
            sensitivity: float, seed: int) -> tuple[DictConfig, list[str]]:
    """The run's settings from the page's controls, and notes on what had to be changed.

    A burst that would not fit in the run is moved and shortened rather than refused, so no
    control can break the page; settings the checks still refuse raise a
    :class:`~sim.errors.SettingError`, and the page keeps its last run and says why. One
    thread per run: a classroom server shares its cores among its visitors.
    """
    overrides = [f"strategy={strategy}", "engine=vector", "threads=1", f"seed={int(seed)}",
                 f"days={int(days)}", f"audience.size={int(followers)}",
                 f"budget.posts_per_day={float(posts_per_day)}", f"budget.asks={int(asks)}",
                 f"audience.attention.reads_per_day={float(reads_per_day)}",
                 f"behaviour.reciprocity.sensitivity={float(sensitivity)}"]
    if answers(strategy):  # burst, broadcast and silent never answer, whatever the control says
        overrides.append(f"strategy.reply_share={float(reply_share)}")
    if has_burst(strategy):
        overrides += [f"strategy.burst_day={int(burst_day)}",
                      f"strategy.burst_hours={int(burst_hours)}"]
    with _compose_lock:
        cfg = settings(*overrides)
    notes = fit_strategy(cfg)
    check(cfg)
    return cfg, notes


@functools.cache
def answers(strategy: str) -> bool:
    """Whether the strategy answers replies (its settings give it room to: reply_capacity),
    so that the page's replies-answered control reaches it."""
    with _compose_lock:
        cfg = settings(f"strategy={strategy}")
    return int(cfg.strategy.get("reply_capacity", 0) or 0) > 0


def has_burst(strategy: str) -> bool:
    """Whether the page's burst controls reach this strategy."""
    return "burst_day" in BUILT_IN.get(strategy, Strategy).settings_names()


class ClassroomModel(VectorAudience):
    """The array engine with keyword settings, so that the page can build it from its controls.

    With ``compare_with`` naming a strategy, a rival run of that strategy on the same audience
    and seed (the same followers, the same newcomers while shares agree) steps in lock-step,
    so the two curves differ by the strategy alone. ``settings`` keeps the controls' values:
    the page rebuilds the run from them when one changes.
    """

    def __init__(self, strategy: str = DEFAULTS["strategy"],
                 compare_with: str = DEFAULTS["compare_with"],
                 followers: int = DEFAULTS["followers"], days: int = DEFAULTS["days"],
                 posts_per_day: float = DEFAULTS["posts_per_day"], asks: int = DEFAULTS["asks"],
                 burst_day: int = DEFAULTS["burst_day"],
                 burst_hours: int = DEFAULTS["burst_hours"],
                 reply_share: float = DEFAULTS["reply_share"],
                 reads_per_day: float = DEFAULTS["reads_per_day"],
                 sensitivity: float = DEFAULTS["sensitivity"], seed: int = DEFAULTS["seed"]):
        knobs = dict(followers=followers, days=days, posts_per_day=posts_per_day, asks=asks,
                     burst_day=burst_day, burst_hours=burst_hours, reply_share=reply_share,
                     reads_per_day=reads_per_day, sensitivity=sensitivity, seed=seed)
        cfg, notes = compose(strategy, **knobs)
        super().__init__(cfg, make_strategy(cfg))
        self.settings = dict(strategy=strategy, compare_with=compare_with, **knobs)
        self.label = strategy
        self.notes = notes
        self.sample = follower_sample(self)
        self.rival: VectorAudience | None = None
        self.lock = threading.RLock()  # ▶'s thread steps while a click redraws: one at a time
        self.player = None  # the ▶ loop that may step this run (a newer one ends an older)
        if compare_with in STRATEGIES:
            rival_cfg, rival_notes = compose(compare_with, **knobs)
            self.rival = VectorAudience(rival_cfg, make_strategy(rival_cfg))
            # the same strategy twice is a fair check: the same seed gives the same curve
            self.rival.label = compare_with if compare_with != strategy else f"{strategy} (again)"
            self.rival.sample = follower_sample(self.rival)
            self.notes += [f"{compare_with}: {note}" for note in rival_notes]

    def step(self) -> None:
        """One hour of each run that has hours left: a run never steps past its last hour."""
        if self.running:
            super().step()
        if self.rival is not None and self.rival.running:
            self.rival.step()

    def advance(self, hours: int = RENDER_EVERY) -> int:
        """Up to ``hours`` hours of both runs, fewer if the run ends first: one frame of the page.
        Returns the hours run."""
        with self.lock:
            if array_engine.numba is not None:  # numba's thread count is per calling thread,
                array_engine.numba.set_num_threads(1)  # and ▶ steps from a thread of its own
            done = 0
            while done < hours and self.running:
                self.step()
                done += 1
            return done


def follower_sample(model: Audience, n: int = SAMPLE) -> list:
    """Up to ``n`` followers who log in, evenly spaced by place (array engine) or id (agent
    engine): no random draw (the run stays the same with or without the page), and a rival
    run on the same seed shows the same people."""
    if isinstance(model, VectorAudience):
        active = np.flatnonzero(model.activity[:model.n] > 0)  # code 0: an activity of 0
        return [SampledFollower(model, int(i)) for i in active[:: max(1, len(active) // n)][:n]]
    active = sorted(model.active, key=lambda f: f.unique_id)
    return active[:: max(1, len(active) // n)][:n]


class SampledFollower:
    """A follower of the array engine read as the rules read one: the engine's own
    :class:`~sim.model.array_engine.FollowerRef`, plus the age of the tie."""

    __slots__ = ("model", "unique_id", "ref")

    def __init__(self, model: VectorAudience, i: int) -> None:
        self.model, self.unique_id, self.ref = model, i, FollowerRef(model, i)

    @property
    def age(self) -> float:
        return self.model.hour - float(self.model.since[self.unique_id])

    def __getattr__(self, name: str) -> float:
        return getattr(self.ref, name)


# --- follower states -------------------------------------------------------------------------

STATES = ("engaged", "neutral", "annoyed", "muted", "gone")
COLOURS = ("#1a9850", "#e0e0e0", "#fdae61", "#4575b4", "#d73027")


def follower_state(f, rules: Rules) -> str:
    """One follower's state, the first that holds:

    - gone: unfollowed;
    - muted: still a follower, but sees none of the account's posts;
    - annoyed: annoyance adds more to the unfollow hazard than everything else does (the
      rules' flooding part of the hazard is over a half), so flooding is now their main
      reason to leave;
    - engaged: in credit with the account, a reciprocity balance of at least ``credit_scale``
      (credit >= 0.5): recent useful posts and replies lift their chance to like, reply,
      share and act. The balance fades in silence, so the credit is recent;
    - neutral: none of these.
    """
    if getattr(f, "gone", False):
        return "gone"
    if f.muted:
        return "muted"
    if unfollow_hazard(f, credit(f.balance, rules), rules)[1] > 0.5:
        return "annoyed"
    if f.balance >= rules.credit_scale:
        return "engaged"
    return "neutral"


def sample_states(run: Audience) -> list[str]:
    """The sampled followers' states at the run's hour, worked out once an hour: the squares
    and the headline's figures both read them (and class mode's replay)."""
    if getattr(run, "states_at", (None,))[0] != run.hour:
        run.states_at = (run.hour, [follower_state(f, run.rules) for f in run.sample])
    return run.states_at[1]


def state_counts(run: Audience) -> dict[str, int]:
    """How many of the run's sampled followers are in each state, in the order of STATES."""
    states = sample_states(run)
    return {s: states.count(s) for s in STATES}


def draw_squares(ax, run: Audience) -> dict[str, int]:
    """The run's sampled followers on ``ax``, one square each in a square grid, coloured by
    :func:`follower_state` (white: no follower there), titled with the run's label; returns
    :func:`state_counts`. The page's squares and class mode's replay both draw with it."""
    side = math.ceil(math.sqrt(SAMPLE))
    states = sample_states(run)
    codes = np.full(side * side, np.nan)
    codes[:len(states)] = [STATES.index(s) for s in states]
    ax.imshow(codes.reshape(side, side), cmap=ListedColormap(COLOURS).with_extremes(bad="white"),
              vmin=-0.5, vmax=len(STATES) - 0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(run.label, fontsize=14)
    return state_counts(run)


# --- what the page shows, as plain data and figures -----------------------------------------------

def runs(model: ClassroomModel) -> list[VectorAudience]:
    """The page's runs: the main one first, then its rival if it has one."""
    return [model] if model.rival is None else [model, model.rival]


def clock(model: VectorAudience) -> str:
    """The hour the run has reached, as on a clock ("day 20, 14:00"); days count from 0, as the
    burst day does, and as the charts' axis does."""
    if model.hour < 0:
        return "day 0, 00:00 (not started)"
    return f"day {model.hour // 24}, {model.hour % 24:02d}:00"


def progress(model: VectorAudience) -> str:
    """Hours run out of the run's hours, or that the run is over."""
    if not model.running:
        return f"the last hour of {model.cfg.days} days: the run is over"
    return f"hour {model.hour + 1:,} of {model.hours:,}"


def totals(run: VectorAudience) -> dict[str, int]:
    """The run's counts so far."""
    v = run.datacollector.model_vars
    return {name: int(sum(v[name])) for name in
            ("unfollows", "mutes", "engagements", "actions", "replies_given", "asks")}


def change(run: VectorAudience) -> float:
    """Followers gained or lost so far, in percent of the start."""
    return 100.0 * (run.follower_count - run.followers_start) / run.followers_start


def percent(x: float) -> str:
    return f"{x:+.1f} %".replace("-", "\u2212")  # a real minus sign, readable from the back


def headline(model: ClassroomModel) -> str:
    """The difference so far, in one or two sentences of HTML: who keeps more followers, and
    who won more actions on its asks, leader first. Each run's numbers are also data
    attributes, for tests."""
    everyone = runs(model)
    if model.hour < 0:
        against = f" against {model.rival.label}" if model.rival else ""
        return (f"<b>{html.escape(model.label)}</b>{html.escape(against)}: "
                f"{model.followers_start:,} followers each, {model.cfg.days} days. "
                f"Press ▶ to play, or Step for {RENDER_EVERY} hours.")

    def name(run):
        return f"<b>{html.escape(run.label)}</b>"

    def figures(run):
        states = sample_states(run)
        return (f"<span class='sim-run' data-run='{html.escape(run.label)}' "
                f"data-hour='{run.hour}' "
                f"data-followers='{run.follower_count}' data-change='{change(run):.4f}' "
                f"data-actions='{totals(run)['actions']}' "
                + " ".join(f"data-{s}='{states.count(s)}'" for s in STATES) + "></span>")

    by_followers = sorted(everyone, key=lambda r: -r.follower_count)
    first, *rest = by_followers
    kept = (f"{name(first)} keeps {first.follower_count:,} followers ({percent(change(first))})"
            + "".join(f", {name(r)} {r.follower_count:,} ({percent(change(r))})" for r in rest))
    by_actions = sorted(everyone, key=lambda r: -totals(r)["actions"])
    won = "Actions on asks: " + ", ".join(f"{name(r)} {totals(r)['actions']:,}"
                                          for r in by_actions)
    return f"{kept}.<br>{won}.{''.join(figures(r) for r in everyone)}"


SUMMARY_ROWS = (
    ("time", clock),
    ("followers", lambda r: f"{r.follower_count:,} ({percent(change(r))})"),
    ("at the start", lambda r: f"{r.followers_start:,}"),
    ("unfollows", lambda r: f"{totals(r)['unfollows']:,}"),
    ("mutes", lambda r: f"{totals(r)['mutes']:,}"),
    ("engagements", lambda r: f"{totals(r)['engagements']:,}"),
    ("actions on asks", lambda r: f"{totals(r)['actions']:,}"),
    ("asks posted", lambda r: f"{totals(r)['asks']:,}"),
    ("replies given", lambda r: f"{totals(r)['replies_given']:,}"),
)


def summary_table(model: ClassroomModel) -> str:
    """Where each run stands, in numbers, as an HTML table."""
    everyone = runs(model)
    head = "".join(f"<th>{html.escape(r.label)}</th>" for r in everyone)
    body = "".join(f"<tr><td>{name}</td>" + "".join(f"<td>{value(r)}</td>" for r in everyone)
                   + "</tr>" for name, value in SUMMARY_ROWS)
    return f"<table class='sim-summary'><tr><th></th>{head}</tr>{body}</table>"


CHARTS = ("Followers", "Unfollows and mutes per hour", "Engagements and actions per hour")
MEASURES = {"Unfollows and mutes per hour": ("unfollows", "mutes"),
            "Engagements and actions per hour": ("engagements", "actions")}
MEASURE_COLOURS = {"unfollows": "#d73027", "mutes": "#4575b4", "engagements": "#1a9850",
                   "actions": "#762a83"}
RUN_COLOURS = ("#d95f02", "#1b7837")  # followers: main run, comparison
RUN_LINES = ("-", "--")  # every chart: main run solid, comparison dashed


def chart_data(model: ClassroomModel) -> dict[str, pd.DataFrame]:
    """What the charts draw, by title, indexed by day: followers with a column per run, the
    hourly counts with a column per (run, measure). Each run brings its own hours, so runs of
    unequal length line up (with gaps) instead of failing."""
    def hourly(run, names) -> pd.DataFrame:
        v = run.datacollector.model_vars
        day = pd.Index(np.asarray(v["hour"], dtype=float) / 24.0, name="day")
        return pd.DataFrame({name: np.asarray(v[name]) for name in names}, index=day)

    everyone = runs(model)
    data = {"Followers": pd.concat({r.label: hourly(r, ["followers"])["followers"]
                                    for r in everyone}, axis=1)}
    for title, names in MEASURES.items():
        data[title] = pd.concat({r.label: hourly(r, names) for r in everyone}, axis=1)
    return data


def _axes(model: ClassroomModel, title: str, ylabel: str):
    """A figure with one set of axes, lettered to be read from the back of a classroom, over
    the whole run from its first hour."""
    fig = Figure(figsize=(5.6, 3.4))
    fig.subplots_adjust(left=0.17, right=0.98, bottom=0.15, top=0.9)  # fixed: a layout
    ax = fig.subplots()  # engine would take a third of the frame
    ax.set_xlim(0, model.cfg.days)
    ax.set_xlabel("day", fontsize=12)
    ax.set_ylabel(ylabel, fontsize=12)
    ax.set_title(title, fontsize=14)
    ax.tick_params(labelsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def followers_figure(model: ClassroomModel) -> Figure:
    """Followers of each run; before the first hour, the axes the run will fill."""
    frame = chart_data(model)["Followers"]
    fig, ax = _axes(model, "Followers", "followers")
    start = model.followers_start
    ax.axhline(start, color="#999999", lw=0.8, zorder=0)
    for label, colour, line in zip(frame.columns, RUN_COLOURS, RUN_LINES):
        ax.plot(frame.index, frame[label], line, color=colour, lw=2.4, label=label)
    values = frame.to_numpy(dtype=float)
    low = min(np.nanmin(values, initial=start), 0.97 * start)
    high = max(np.nanmax(values, initial=start), 1.01 * start)
    ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.legend(frameon=False, fontsize=12, loc="lower left")
    return fig


def hourly_figure(model: ClassroomModel, title: str) -> Figure:
    """Counts per hour, a colour per measure, a line style per run (main solid, comparison
    dashed); the axes start at zero."""
    frame = chart_data(model)[title]
    fig, ax = _axes(model, title, "per hour")
    for (label, measure) in frame.columns:
        line = RUN_LINES[[r.label for r in runs(model)].index(label)]
        ax.plot(frame.index, frame[(label, measure)], line, color=MEASURE_COLOURS[measure],
                lw=1.6, label=f"{label}: {measure}")
    top = float(np.nanmax(frame.to_numpy(dtype=float), initial=0.0))
    ax.set_ylim(0, max(5.0, 1.15 * top))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers
    ax.legend(frameon=False, fontsize=11, loc="upper left", ncol=2)
    return fig


def squares_figure(model: ClassroomModel) -> Figure:
    """A fixed sample of followers, one square each, coloured by :func:`follower_state`, a
    panel per run; the legend counts each state in each run."""
    everyone = runs(model)
    fig = Figure(figsize=(5.6, 3.4))
    axes = np.atleast_1d(fig.subplots(1, len(everyone)))
    counts = [draw_squares(ax, run) for ax, run in zip(axes, everyone)]
    names = [r.label for r in everyone]
    fig.legend(handles=[Patch(color=c, label=f"{s}: " + " / ".join(
                   f"{name} {n[s]}" for name, n in zip(names, counts)))
                        for s, c in zip(STATES, COLOURS)],
               loc="lower center", ncol=2, frameon=False, fontsize=11)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=0.3, wspace=0.08)
    return fig


DRAWINGS = {
    "Followers": followers_figure,
    "Unfollows and mutes per hour": lambda m: hourly_figure(m, "Unfollows and mutes per hour"),
    "Engagements and actions per hour":
        lambda m: hourly_figure(m, "Engagements and actions per hour"),
    "The audience": squares_figure,
}


def picture(figure: Figure) -> bytes:
    """A figure as PNG, drawn on the server: the page needs no chart library from the
    internet, so it works on a closed school network."""
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def sentence(what: str, error: BaseException) -> str:
    """An error as one short sentence for the page; the traceback goes to the server's log."""
    log.error("%s", what, exc_info=error)
    detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return f"{what} ({detail[:160]})."


# --- components ----------------------------------------------------------------------------------

@solara.component
def Drawing(title: str, model: ClassroomModel, frame: int):
    """One of :data:`DRAWINGS`, or a sentence saying it could not be drawn."""
    try:
        with model.lock:  # not while ▶'s thread is halfway through an hour
            png = picture(DRAWINGS[title](model))
    except Exception as error:  # noqa: BLE001 - the page must outlive a drawing that fails
        solara.Error(sentence(f"{title}: this frame could not be drawn, the run goes on", error))
        return
    solara.Image(png, width="100%", classes=["sim-figure"])


@solara.component
def Markup(make, model: ClassroomModel, frame: int, classes: list[str]):
    """HTML made by ``make(model)`` (plain HTML: solara's Markdown would fetch a maths renderer
    from the internet), or a sentence saying it could not be made."""
    try:
        with model.lock:
            content = make(model)
    except Exception as error:  # noqa: BLE001 - the page must outlive a summary that fails
        solara.Error(sentence("The numbers could not be shown this time", error))
        return
    solara.HTML(tag="div", unsafe_innerHTML=content, classes=classes)


@solara.component
def Board(model: ClassroomModel, frame: solara.Reactive[int]):
    """The main area: the clock and headline, the charts and squares, the table of numbers;
    redrawn whenever a frame has run."""
    frame = frame.value
    with solara.Column(classes=["sim-board"]):
        Markup(lambda m: f"{html.escape(clock(m))} <small>{html.escape(progress(m))}</small>",
             model, frame, ["sim-clock"])
        Markup(headline, model, frame, ["sim-headline"])
        for note in model.notes:
            solara.Warning(note)
        with solara.Columns([1, 1]):
            Drawing("Followers", model, frame)
            Drawing("The audience", model, frame)
        with solara.Columns([1, 1]):
            Drawing("Unfollows and mutes per hour", model, frame)
            Drawing("Engagements and actions per hour", model, frame)
        Markup(summary_table, model, frame, [])


@dataclass(frozen=True)
class Knob:
    """A number the class can set: a box that shows it with its unit and takes typing, and a
    slider over its range."""

    name: str
    label: str
    unit: str
    low: float
    high: float
    step: float
    burst: bool = False  # only a burst uses it

    @property
    def whole(self) -> bool:
        return isinstance(self.step, int)

    def fit(self, value: float) -> tuple[float, str]:
        """The value on this knob's range and steps, and a note if it had to move."""
        fitted = min(max(value, self.low), self.high)
        fitted = round(round(fitted / self.step) * self.step, 6)
        fitted = int(fitted) if self.whole else float(fitted)
        if not self.low <= value <= self.high:
            return fitted, f" ({value:,} is outside {self.low:,} to {self.high:,})"
        if abs(fitted - value) > self.step / 1000:
            return fitted, f" (in steps of {self.step:,})"
        return fitted, ""

    def shown(self, value: float) -> str:
        unit = self.unit[:-1] if value == 1 and self.unit.endswith("s") else self.unit
        return f"{value:,} {unit}".strip()


KNOBS = (
    Knob("followers", "Followers at the start", "followers", 100, 100_000, 100),
    Knob("days", "Days", "days", 1, 60, 1),
    Knob("posts_per_day", "Useful posts a day", "posts", 0.0, 10.0, 0.5),
    Knob("asks", "Asks over the run", "asks", 0, 200, 1),
    Knob("burst_day", "Burst day (0 is the first)", "", 0, 59, 1, burst=True),
    Knob("burst_hours", "Burst length", "hours", 1, 96, 1, burst=True),
    Knob("reply_share", "Replies answered (steady)", "of them", 0.0, 1.0, 0.05),
    Knob("reads_per_day", "Posts a follower reads a day", "posts", 10.0, 400.0, 10.0),
    Knob("sensitivity", "Reciprocity sensitivity", "", 0.0, 1.0, 0.05),
    Knob("seed", "Seed", "", 0, 99, 1),
)
CHOICES = {"strategy": ("Strategy", STRATEGIES),
           "compare_with": ("Compare with (same audience and seed)", ("none", *STRATEGIES))}


@solara.component
def KnobControl(knob: Knob, value: float, on_value, disabled: bool = False):
    """The box, always showing the value, then the slider; both set the same value."""
    box = solara.InputInt if knob.whole else solara.InputFloat
    slider = solara.SliderInt if knob.whole else solara.SliderFloat
    with solara.Column(gap="0px", classes=["sim-knob"]):
        box(knob.label, value=value, on_value=on_value, suffix=knob.unit or None,
            disabled=disabled, dense=True)
        slider("", value=value, on_value=on_value, min=knob.low, max=knob.high,
               step=knob.step, thumb_label=False, disabled=disabled)


@solara.component
def Classroom(model: solara.Reactive[ClassroomModel]):
    """The page for one visitor's runs (tests pass a reactive model they can inspect).

    Changing a setting builds the runs anew at once and says so; Step runs a frame of
    :data:`RENDER_EVERY` hours, ▶ runs frames until the end. Every error is caught and shown
    as a sentence.
    """
    playing = solara.use_reactive(False)
    frame = solara.use_reactive(0)  # frames drawn since the page opened: a change redraws
    notice = solara.use_reactive("")  # what the last change of settings did
    trouble = solara.use_reactive("")  # the last error the page caught
    run = model.value

    def advance(current: ClassroomModel) -> None:
        """A frame of ``current``: the run that Step or ▶ found on the page, not whichever run
        is there by now (a change of settings may have built a new one meanwhile)."""
        try:
            current.advance(RENDER_EVERY)
        except Exception as error:  # noqa: BLE001 - a failed hour stops the run, not the page
            if model.value is current:  # a run the page has dropped has nothing to report
                trouble.set(sentence(f"The run stopped at {clock(current)}", error))
                playing.set(False)
        frame.set(frame.value + 1)

    def play() -> None:
        """▶'s loop, in a thread of its own; a newer loop or a new run ends it."""
        player = object()
        current = model.value
        current.player = player
        while playing.value and model.value is current and current.running \
                and current.player is player:
            advance(current)
            time.sleep(PAUSE)
        if model.value is current and current.player is player:
            playing.set(False)

    solara.lab.use_task(play, dependencies=[playing.value], raise_error=False,
                        prefer_threaded=True)

    def rebuild(changes: dict, why: str) -> None:
        playing.set(False)
        try:
            fresh = ClassroomModel(**{**model.value.settings, **changes})
        except Exception as error:  # noqa: BLE001 - keep the run that works
            trouble.set(sentence("These settings could not be run; the page keeps the last run",
                                 error))
            return
        model.set(fresh)
        trouble.set("")
        notice.set(why)

    def set_knob(knob: Knob, value) -> None:
        if value is None:
            return
        fitted, note = knob.fit(value)
        if fitted == model.value.settings[knob.name]:  # also a box's echo of a moved value
            return
        rebuild({knob.name: fitted}, f"{knob.label} is now {knob.shown(fitted)}{note}: "
                                     f"the run started again from day 0.")

    def set_choice(name: str, value: str) -> None:
        if value != model.value.settings[name]:
            rebuild({name: value}, f"{CHOICES[name][0]} is now {value}: "
                                   f"the run started again from day 0.")

    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        with solara.Column(classes=["sim-controls"]):
            Buttons(run, frame, playing, on_step=lambda: advance(model.value),
                    on_reset=lambda: rebuild({}, "Reset: the run started again from day 0."))
            with solara.Column(gap="4px"):  # one place for messages: the controls below
                if notice.value:  # keep their widgets (and a box's focus) when one comes
                    solara.Info(notice.value, dense=True)
                if trouble.value:
                    solara.Error(trouble.value, dense=True)
            for name, (label, values) in CHOICES.items():
                solara.Select(label, value=run.settings[name], values=list(values),
                              on_value=lambda v, name=name: set_choice(name, v))
            bursts = has_burst(run.settings["strategy"]) or has_burst(
                run.settings["compare_with"])
            for knob in KNOBS:
                KnobControl(knob, run.settings[knob.name],
                            on_value=lambda v, knob=knob: set_knob(knob, v),
                            disabled=knob.burst and not bursts)
    Board(run, frame)


@solara.component
def Buttons(model: ClassroomModel, frame: solara.Reactive[int],
            playing: solara.Reactive[bool], on_step, on_reset):
    """Reset, ▶ and Step, greyed out when they can do nothing. They read the frame, so that
    only they and the board are redrawn as the run steps, not the settings."""
    frame.get()
    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=on_reset)
        solara.Button("❚❚ Pause" if playing.value else "▶ Play", color="primary",
                      on_click=lambda: playing.set(not playing.value),
                      disabled=not model.running)
        solara.Button("Step", color="primary", on_click=on_step,
                      disabled=playing.value or not model.running)
    solara.Text(f"Step runs {RENDER_EVERY} hours; ▶ plays to the end. Changing a setting "
                f"starts the run again.", classes=["sim-hint"])


CSS = """
.sim-clock { font-size: 1.6em; font-weight: 600; }
.sim-clock small { font-size: 0.6em; font-weight: 400; color: #555; margin-left: 0.6em; }
.sim-headline { font-size: 1.35em; line-height: 1.5; }
.sim-figure { max-width: 100%; height: auto; }
.sim-summary td, .sim-summary th { padding: 2px 12px; text-align: right; }
.sim-summary td:first-child { text-align: left; }
.sim-hint { font-size: 0.85em; color: #555; }
.sim-knob .v-input--dense { margin-top: 4px; }
"""


@solara.component
def Page():
    """Each visitor gets runs of their own: a classroom shares one server."""
    first = solara.use_memo(ClassroomModel, dependencies=[])
    model = solara.use_reactive(first)
    Classroom(model)


def warm_up() -> None:
    """Compile the followers' hour before the first visitor presses Step: numba compiles it
    once per machine and version of the rules (about ten seconds), then loads it from disk.
    If that fails, the page's first Step says why."""
    try:
        ClassroomModel(compare_with="none", followers=100, days=1).advance(1)
    except Exception as error:  # noqa: BLE001 - a warm-up is a favour, not a requirement
        log.warning("could not prepare the model's hour in advance: %s", error)


OFFLINE = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}  # solara's usage statistics: off


def main() -> None:
    """``python -m sim.app [solara run options]``: serve this page with solara's server.
    Nothing leaves the machine: the front end comes from solara-assets, the charts are drawn
    on the server, and solara's telemetry is off."""
    args = sys.argv[1:]
    if "-h" in args or "--help" in args:
        print("usage: python -m sim.app [--port PORT] [--host HOST] [solara run options]\n\n"
              "Serve the classroom page: watch an audience answer a posting strategy, hour by "
              "hour.\nOpen the address it prints (http://localhost:8765 by default). Nothing "
              "is fetched from the\ninternet. The lesson: docs/classroom.md. Options are "
              "those of 'solara run' (python -m solara run --help).")
        return
    if "--dev" not in args and "--production" not in args:
        args.append("--production")  # development mode links to solara.dev
    if "--check-version" not in args:
        args.append("--no-check-version")  # solara run would ask PyPI for its newest version
    command = [sys.executable, "-m", "solara", "run", "sim.apps.page", *args]
    os.execve(sys.executable, command, {**os.environ, **OFFLINE})  # the server is this process


if "solara.server.app" in sys.modules:  # served: compile while the teacher opens the page
    threading.Thread(target=warm_up, name="sim-warm-up", daemon=True).start()

# ``solara run sim/apps/page.py`` executes this file as __main__ too; only start a server if none runs.
if __name__ == "__main__" and "solara.server.app" not in sys.modules:
    main()
