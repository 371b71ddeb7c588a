"""A classroom page: watch an audience answer the account's posting strategy, hour by hour.

A Mesa SolaraViz page. Start it with ``python -m sim.app`` (or ``solara run sim.apps.page``) and
open the address it prints. Pick a strategy and its settings in the sidebar, press Reset to
build the run, then Step or play. With "compare with" set, a second run of another strategy
on the same audience and seed steps alongside, and its followers curve is drawn over this
run's.

The page only drives the agent engine (:class:`sim.model.agent_engine.AudienceModel`); the
followers' rules stay in :mod:`sim.model.rules`.
"""

from __future__ import annotations

import html
import math
import os
import sys
import threading
import warnings

import numpy as np
import pandas as pd
import solara
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from omegaconf import DictConfig

with warnings.catch_warnings():  # Mesa 3.3's own hook-order notice, not ours to fix
    warnings.filterwarnings("ignore", message=".*found despite early return", category=UserWarning)
    from mesa.visualization import Slider, SolaraViz
    from mesa.visualization.utils import update_counter

from sim.config.checks import check, fit_strategy
from sim.config.compose import make_strategy, settings
from sim.config.schema import strategy_names
from sim.errors import SettingError
from sim.model.agent_engine import AudienceModel
from sim.model.rules import Rules, credit, unfollow_hazard
from sim.model.strategies import BUILT_IN, Strategy

STRATEGIES = tuple(strategy_names())  # the files of conf/strategy/
SAMPLE = 400  # followers shown as squares: a 20 x 20 grid
RENDER_EVERY = 13  # hours per redraw (Mesa's render-interval slider takes odd values); a step takes
# milliseconds, a redraw about 0.2 s

# --- the model with keyword settings ------------------------------------------------------------

DEFAULTS = dict(strategy="burst", compare_with="steady", followers=2000, days=30,
                posts_per_day=1.0, asks=10, burst_day=20, burst_hours=6, reply_share=0.5,
                reads_per_day=100.0, sensitivity=0.5, seed=0)

_compose_lock = threading.Lock()  # Hydra's composition is global state; visitors share it


def compose(strategy: str, followers: int, days: int, posts_per_day: float, asks: int,
            burst_day: int, burst_hours: int, reply_share: float, reads_per_day: float,
            sensitivity: float, seed: int) -> tuple[DictConfig, list[str]]:
    """The run's settings from the page's controls, and notes on what had to be changed.

    A burst that would not fit in the run is moved and shortened rather than refused, so no
    slider position can break the page; settings the checks still refuse fall back to the
    strategy's defaults, with the reason as a note.
    """
    overrides = [f"strategy={strategy}", "engine=agents", f"seed={int(seed)}",
                 f"days={int(days)}", f"audience.size={int(followers)}",
                 f"budget.posts_per_day={float(posts_per_day)}", f"budget.asks={int(asks)}",
                 f"strategy.reply_share={float(reply_share)}",
                 f"audience.attention.reads_per_day={float(reads_per_day)}",
                 f"behaviour.reciprocity.sensitivity={float(sensitivity)}"]
    if "burst_day" in BUILT_IN.get(strategy, Strategy).settings_names():  # a burst's sliders
        overrides += [f"strategy.burst_day={int(burst_day)}",
                      f"strategy.burst_hours={int(burst_hours)}"]
    with _compose_lock:
        cfg = settings(*overrides)
    notes = fit_strategy(cfg)
    try:
        check(cfg)
    except SettingError as error:
        notes.append(f"{error} The run uses the {strategy} defaults instead.")
        with _compose_lock:
            cfg = settings(f"strategy={strategy}", "engine=agents")
    return cfg, notes


class ClassroomModel(AudienceModel):
    """The agent engine with keyword settings, so that SolaraViz can build and reset it.

    With ``compare_with`` naming a strategy, a rival run of that strategy on the same audience
    and seed (the same followers, the same newcomers while shares agree) steps in lock-step,
    so the two curves differ by the strategy alone.
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
        self.label = strategy
        self.notes = notes
        self.sample = follower_sample(self)
        self.rival: AudienceModel | None = None
        if compare_with in STRATEGIES:
            rival_cfg, rival_notes = compose(compare_with, **knobs)
            self.rival = AudienceModel(rival_cfg, make_strategy(rival_cfg))
            # the same strategy twice is a fair check: the same seed gives the same curve
            self.rival.label = compare_with if compare_with != strategy else f"{strategy} (again)"
            self.rival.sample = follower_sample(self.rival)
            self.notes += [f"{compare_with}: {note}" for note in rival_notes]

    def step(self) -> None:
        super().step()
        if self.rival is not None and self.rival.running:
            self.rival.step()


def follower_sample(model: AudienceModel, n: int = SAMPLE) -> list:
    """Up to ``n`` followers who log in, evenly spaced by id: no random draw (the run stays
    the same with or without the page), and a rival run on the same seed shows the same people."""
    active = sorted(model.active, key=lambda f: f.unique_id)
    return active[:: max(1, len(active) // n)][:n]


# --- follower states -------------------------------------------------------------------------

STATES = ("engaged", "neutral", "annoyed", "muted", "gone")
COLOURS = ("#1a9850", "#e0e0e0", "#fdae61", "#4575b4", "#d73027")


def follower_state(f, rules: Rules) -> str:
    """One follower's state, the first that holds:

    - gone: unfollowed (the follower was removed);
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


def state_counts(model: AudienceModel) -> dict[str, int]:
    """How many of the model's sampled followers are in each state."""
    counts = dict.fromkeys(STATES, 0)
    for f in model.sample:
        counts[follower_state(f, model.rules)] += 1
    return counts


# --- components ----------------------------------------------------------------------------------

def _runs(model: ClassroomModel) -> list[AudienceModel]:
    return [model] if model.rival is None else [model, model.rival]


def chart_data(model: ClassroomModel) -> dict[str, pd.DataFrame]:
    """What the charts draw, by title: one column per run (followers) or per count."""
    runs = _runs(model)
    first = pd.DataFrame(model.datacollector.model_vars)
    return {
        "Followers": pd.DataFrame(
            {run.label: np.asarray(run.datacollector.model_vars["followers"]) for run in runs},
            index=first["hour"].to_numpy() / 24.0),
        "Unfollows and mutes per hour": first.set_index("hour")[["unfollows", "mutes"]],
        "Engagements and actions per hour": first.set_index("hour")[["engagements", "actions"]],
    }


COLOURS_OF = {"unfollows": "#d73027", "mutes": "#4575b4", "engagements": "#1a9850",
              "actions": "#762a83"}


def _chart(model: ClassroomModel, title: str) -> None:
    """One chart, drawn with matplotlib on the server: the page then needs no chart library
    from the internet, so it works on a closed school network."""
    frame = chart_data(model)[title]
    fig = Figure(figsize=(6.0, 3.0), layout="constrained")
    ax = fig.subplots()
    for column in frame.columns:
        ax.plot(frame.index, frame[column], label=column, lw=1.6, color=COLOURS_OF.get(column))
    days = title == "Followers"
    ax.set_xlim(0, model.cfg.days * (1 if days else 24))
    ax.set_xlabel("day" if days else "hour")
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    solara.FigureMatplotlib(fig, format="png")


def chart(title: str):
    """The page component that draws one of :func:`chart_data`'s charts, redrawn as the run
    steps."""
    @solara.component
    def Chart(model: ClassroomModel):
        update_counter.get()
        _chart(model, title)
    return Chart


CHARTS = ("Followers", "Unfollows and mutes per hour", "Engagements and actions per hour")


@solara.component
def FollowerGrid(model: ClassroomModel):
    """A fixed sample of followers, one square each, coloured by :func:`follower_state`."""
    update_counter.get()
    runs = _runs(model)
    fig = Figure(figsize=(max(3.4 * len(runs), 5.0), 4.0))
    axes = np.atleast_1d(fig.subplots(1, len(runs)))
    side = math.ceil(math.sqrt(SAMPLE))
    cmap = ListedColormap(COLOURS).with_extremes(bad="white")  # white: no follower there
    for ax, run in zip(axes, runs):
        codes = np.full(side * side, np.nan)
        codes[:len(run.sample)] = [STATES.index(follower_state(f, run.rules)) for f in run.sample]
        ax.imshow(codes.reshape(side, side), cmap=cmap, vmin=-0.5, vmax=len(STATES) - 0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(run.label)
    counts = [state_counts(run) for run in runs]
    fig.legend(handles=[Patch(color=c, label=f"{s} " + " / ".join(str(n[s]) for n in counts))
                        for s, c in zip(STATES, COLOURS)],
               loc="lower center", ncol=3, frameon=False)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.92, bottom=0.2, wspace=0.08)
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def Summary(model: ClassroomModel):
    """Where the run stands, in numbers, with the notes on settings the page had to change."""
    update_counter.get()
    rows = [("day", lambda r: f"{(r.hour + 1) / 24:.1f} of {r.cfg.days}"),
            ("followers", lambda r: f"{r.follower_count:,} (start {r.followers_start:,})"),
            ("unfollows", lambda r: f"{sum(r.datacollector.model_vars['unfollows']):,}"),
            ("mutes", lambda r: f"{sum(r.datacollector.model_vars['mutes']):,}"),
            ("engagements", lambda r: f"{sum(r.datacollector.model_vars['engagements']):,}"),
            ("actions on asks", lambda r: f"{sum(r.datacollector.model_vars['actions']):,}"),
            ("replies given", lambda r: f"{sum(r.datacollector.model_vars['replies_given']):,}")]
    runs = _runs(model)
    head = "".join(f"<th>{html.escape(r.label)}</th>" for r in runs)
    body = "".join(f"<tr><td>{name}</td>" + "".join(f"<td>{value(r)}</td>" for r in runs)
                   + "</tr>" for name, value in rows)
    # plain HTML: solara's Markdown would fetch a maths renderer from the internet
    table = f"<table class='sim-summary'><tr><th></th>{head}</tr>{body}</table>"
    with solara.Column():
        solara.HTML(tag="div", unsafe_innerHTML=table)
        for note in model.notes:
            solara.Warning(note)


COMPONENTS = [
    *((chart(title), 0) for title in CHARTS),
    (FollowerGrid, 0),
    (Summary, 0),
]

MODEL_PARAMS = {
    "strategy": {"type": "Select", "label": "Strategy", "value": DEFAULTS["strategy"],
                 "values": list(STRATEGIES)},
    "compare_with": {"type": "Select", "label": "Compare with (same audience and seed)",
                     "value": DEFAULTS["compare_with"], "values": ["none", *STRATEGIES]},
    "followers": Slider("Followers at the start", DEFAULTS["followers"], 100, 10_000, 100),
    "days": Slider("Days", DEFAULTS["days"], 1, 60, 1),
    "posts_per_day": Slider("Useful posts per day", DEFAULTS["posts_per_day"], 0.0, 10.0, 0.5),
    "asks": Slider("Asks over the run", DEFAULTS["asks"], 0, 200, 1),
    "burst_day": Slider("Burst day (burst only)", DEFAULTS["burst_day"], 0, 59, 1),
    "burst_hours": Slider("Burst hours (burst only)", DEFAULTS["burst_hours"], 1, 96, 1),
    "reply_share": Slider("Replies answered (steady only)",
                          DEFAULTS["reply_share"], 0.0, 1.0, 0.05),
    "reads_per_day": Slider("Posts a follower reads per day", DEFAULTS["reads_per_day"],
                            10.0, 400.0, 10.0),
    "sensitivity": Slider("Reciprocity sensitivity", DEFAULTS["sensitivity"], 0.0, 1.0, 0.05),
    "seed": Slider("Seed", DEFAULTS["seed"], 0, 99, 1),
}


@solara.component
def Classroom(model: ClassroomModel | solara.Reactive[ClassroomModel]):
    """The SolaraViz page for one model (tests pass a reactive model they can inspect)."""
    return SolaraViz(model, components=COMPONENTS, model_params=MODEL_PARAMS,
                     name="How an audience answers a posting strategy",
                     render_interval=RENDER_EVERY)


@solara.component
def Page():
    """Each visitor gets a model of their own: a classroom shares one server."""
    model = solara.use_memo(ClassroomModel, dependencies=[])
    return Classroom(model)


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
    command = [sys.executable, "-m", "solara", "run", "sim.apps.page", *args]
    os.execve(sys.executable, command, {**os.environ, **OFFLINE})  # the server is this process


# ``solara run sim/apps/page.py`` executes this file as __main__ too; only start a server if none runs.
if __name__ == "__main__" and "solara.server.app" not in sys.modules:
    main()
