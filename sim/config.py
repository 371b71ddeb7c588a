"""The settings' schema: types and allowed ranges. Values live in the YAML files of ``conf/``.

Hydra merges the YAML groups onto these dataclasses, so an unknown key or a wrong type is
rejected before a run starts. Ranges cannot be expressed as types; each field carries its
range in ``metadata`` and :func:`check` walks the tree and names the first setting that is
out of bounds.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import MISSING, DictConfig, OmegaConf

_HERE = Path(__file__).resolve().parent
# Installed, the configs ship inside the package; in the source tree they sit beside it.
CONF_DIR = _HERE / "conf" if (_HERE / "conf").is_dir() else _HERE.parent / "conf"
EXPERIMENTS_DIR = (_HERE / "experiments" if (_HERE / "experiments").is_dir()
                   else _HERE.parent / "experiments")

ENGINES = ("auto", "agents", "vector")


class SettingError(ValueError):
    """A user's setting is out of range or inconsistent; the message says which and why."""


def setting(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
            hi_open: bool = False, choices: tuple[str, ...] | None = None, doc: str = "") -> Any:
    """A field with no default (YAML carries the value) and its allowed range."""
    return field(default=MISSING, metadata={"lo": lo, "hi": hi, "lo_open": lo_open,
                                            "hi_open": hi_open, "choices": choices, "doc": doc})


PROBABILITY = {"lo": 0.0, "hi": 1.0}


# --- audience: who the followers are -------------------------------------------------------

@dataclass
class AttentionConf:
    reads_per_day: float = setting(0, lo_open=True, doc="median posts a follower reads per day")
    reads_spread: float = setting(0, 3, doc="log-normal sigma of reads_per_day")
    followees: float = setting(1, doc="median number of other accounts a follower follows")
    followees_spread: float = setting(0, 3, doc="log-normal sigma of followees")
    other_posts_per_day: float = setting(0, lo_open=True, doc="posts per day of each other followee")
    online_hours: float = setting(0, 24, lo_open=True, doc="median hours online per day")
    online_spread: float = setting(0, 3, doc="log-normal sigma of online_hours")
    rhythm: list[float] = field(default_factory=lambda: MISSING,
                                metadata={"doc": "24 relative weights of being online, by hour"})


@dataclass
class HistoryConf:
    """What the account did before the run; it sets the audience's starting state."""

    posts_per_day: float = setting(0, doc="the account's cadence before the run")
    tie_age_days: float = setting(0, lo_open=True, doc="mean age of the existing ties, days")


@dataclass
class AudienceConf:
    name: str = MISSING
    size: int = setting(1, doc="followers at the start")
    inactive_share: float = setting(**PROBABILITY, doc="followers who never log in")
    mutual_share: float = setting(**PROBABILITY, doc="ties the account follows back")
    interest: float = setting(0, 1, lo_open=True, hi_open=True,
                              doc="mean interest in the account's posts")
    interest_spread: float = setting(0, lo_open=True, doc="beta concentration of interest (higher: less spread)")
    tolerance: float = setting(1, lo_open=True, doc="median posts tolerated from the account, in fair shares (> 1)")
    tolerance_spread: float = setting(0, 3, doc="log-normal sigma of tolerance minus one")
    attention: AttentionConf = field(default_factory=AttentionConf)
    history: HistoryConf = field(default_factory=HistoryConf)


# --- behaviour: how followers answer (the calibrated rules' parameters) ----------------------

@dataclass
class FeedConf:
    post_half_life_minutes: float = setting(0, 10_000, lo_open=True, doc="half-life of a post's visibility")
    memory_half_life_hours: float = setting(0, 10_000, lo_open=True,
                                            doc="how long a follower remembers seeing the account")


@dataclass
class AnnoyanceConf:
    gain: float = setting(0, doc="annoyance per day at an excess of one tolerated load")
    convexity: float = setting(1, 4, doc="power of the excess over tolerance: 1 linear, 2 square")
    half_life_days: float = setting(0, 3650, lo_open=True, doc="how slowly annoyance fades")


@dataclass
class ReciprocityConf:
    value_credit: float = setting(0, doc="balance gained per useful post seen")
    reply_credit: float = setting(0, doc="balance gained per reply received")
    ask_cost: float = setting(0, doc="balance spent per ask seen")
    half_life_days: float = setting(0, 3650, lo_open=True, doc="how fast the balance erodes in silence")
    credit_scale: float = setting(0, lo_open=True, doc="balance at which credit is half its maximum")
    sensitivity: float = setting(0, 1, doc="how strongly credit scales engagement and actions")


@dataclass
class EngagementConf:
    like: float = setting(**PROBABILITY, doc="chance to like a seen post, at full interest and no credit")
    comment: float = setting(**PROBABILITY, doc="chance to reply to a seen post")
    share: float = setting(**PROBABILITY, doc="chance to share a seen post")
    like_satiation: float = setting(0, doc="how much recent posts of the account damp likes")
    comment_satiation: float = setting(0, doc="how much recent posts of the account damp replies")
    act: float = setting(**PROBABILITY, doc="chance to act on a seen ask, at full interest and no credit")
    act_satiation: float = setting(0, doc="how much recent posts of the account damp actions")


@dataclass
class LeavingConf:
    churn: float = setting(0, 1, doc="baseline unfollow hazard per day, at zero interest")
    flooding: float = setting(0, doc="extra hazard per day per unit of annoyance")
    debt_factor: float = setting(1, doc="hazard multiplier at full debt (its inverse at full credit)")
    mutual_factor: float = setting(0, 1, lo_open=True, doc="hazard multiplier on follow-back ties")
    youth_extra: float = setting(0, doc="extra hazard of a brand-new tie, relative")
    youth_days: float = setting(0, lo_open=True, doc="tie age at which the extra hazard has halved")
    mute_share: float = setting(**PROBABILITY, doc="share of leavers who mute instead of unfollowing")


@dataclass
class GrowthConf:
    discovery_per_day: float = setting(0, 0.1, doc="new followers per day by discovery, per follower")
    share_reach: float = setting(0, doc="non-followers who see a shared post")
    conversion: float = setting(**PROBABILITY, doc="chance that a non-follower who sees a share follows")
    comment_window_hours: int = setting(1, doc="how long a reply to the account waits for an answer")


@dataclass
class BehaviourConf:
    name: str = MISSING
    feed: FeedConf = field(default_factory=FeedConf)
    annoyance: AnnoyanceConf = field(default_factory=AnnoyanceConf)
    reciprocity: ReciprocityConf = field(default_factory=ReciprocityConf)
    engagement: EngagementConf = field(default_factory=EngagementConf)
    leaving: LeavingConf = field(default_factory=LeavingConf)
    growth: GrowthConf = field(default_factory=GrowthConf)


# --- strategy: what the account posts ---------------------------------------------------------

@dataclass
class StrategyConf:
    """Settings every strategy accepts: its budget of posts and asks, and how it replies."""

    _target_: str = MISSING
    posts_per_day: float = setting(0, doc="useful (value) posts per day, on average")
    asks: int = setting(0, doc="asks (calls to action) over the whole run")
    reply_share: float = setting(**PROBABILITY, doc="share of the followers who reply that it answers")
    reply_capacity: int = setting(0, doc="most replies the account gives in an hour")


@dataclass
class BurstConf(StrategyConf):
    """Dormant-then-burst: near-quiet for days, then asks packed into a few hours."""

    quiet_share: float = setting(**PROBABILITY, doc="share of value posts kept at the quiet cadence")
    burst_day: int = setting(0, doc="day the burst starts (0 = first day)")
    burst_hour: int = setting(0, 23, doc="hour of day the burst starts")
    burst_hours: int = setting(1, doc="length of the burst in hours")


@dataclass
class BudgetConf:
    """The shared budget that makes strategies comparable: same posts, same asks."""

    posts_per_day: float = setting(0, doc="value posts per day, on average")
    asks: int = setting(0, doc="asks over the run")


@dataclass
class Config:
    seed: int = setting(0, doc="random seed; the same seed gives identical tables")
    days: int = setting(1, doc="simulated days; one step is one hour")
    engine: str = setting(choices=ENGINES, doc="which engine runs the followers")
    threads: int = setting(0, doc="threads for engine=vector; 0 = every core")
    resume: bool = MISSING  # in a sweep, skip runs that finished before (same hydra.sweep.dir)
    budget: BudgetConf = field(default_factory=BudgetConf)
    audience: AudienceConf = field(default_factory=AudienceConf)
    behaviour: BehaviourConf = field(default_factory=BehaviourConf)
    strategy: StrategyConf = field(default_factory=StrategyConf)


def register() -> None:
    """Store the schemas so that the YAML files can start from them (Hydra's pattern 5.1)."""
    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    # Kept out of the user's groups; YAML files start from them with /schema/NAME@_here_.
    cs.store(group="schema", name="audience", node=AudienceConf)
    cs.store(group="schema", name="behaviour", node=BehaviourConf)
    cs.store(group="schema", name="strategy", node=StrategyConf)
    cs.store(group="schema", name="burst", node=BurstConf)
    # Named experiments live in experiments/ and are chosen with +experiment=NAME.
    for path in sorted(EXPERIMENTS_DIR.glob("*.yaml")):
        cs.store(group="experiment", name=path.stem, node=OmegaConf.load(path),
                 package="_global_")
    # An ad-hoc sweep's folder is named for what it sweeps (conf/config.yaml, hydra.sweep.dir).
    from sim.sweep import name as sweep_name
    OmegaConf.register_new_resolver("sim.sweep_name", sweep_name, replace=True)


# --- range checks ---------------------------------------------------------------------------

def _allowed(meta: dict) -> str:
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    lo, hi = meta.get("lo"), meta.get("hi")
    low = f"{lo} < value" if meta.get("lo_open") else f"{lo} <= value"
    high = f"< {hi}" if meta.get("hi_open") else f"<= {hi}"
    if lo is not None and hi is not None:
        return f"{low} {high}"
    if lo is not None:
        return low
    return f"value {high}"


def _fail(path: str, value: Any, allowed: str, why: str = "") -> SettingError:
    why = f" {why}" if why else ""
    return SettingError(
        f"Setting '{path}' = {value!r} is not allowed.{why} Allowed: {allowed}. "
        f"Change it on the command line (e.g. {path}=...) or in its YAML file under conf/."
    )


def _walk(node: Any, schema: type, prefix: str) -> None:
    for f in dataclasses.fields(schema):
        if f.name.startswith("_") or f.name not in node:
            continue
        value = node[f.name]
        path = f"{prefix}{f.name}"
        child = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(child):
            _walk(value, type(child), path + ".")
            continue
        meta = f.metadata
        if meta.get("choices") and value not in meta["choices"]:
            raise _fail(path, value, _allowed(meta))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise _fail(path, value, _allowed(meta) if meta.get("lo") is not None else "a finite number")
            lo, hi = meta.get("lo"), meta.get("hi")
            too_low = lo is not None and (value <= lo if meta.get("lo_open") else value < lo)
            too_high = hi is not None and (value >= hi if meta.get("hi_open") else value > hi)
            if too_low or too_high:
                raise _fail(path, value, _allowed(meta))


def check(cfg: DictConfig) -> None:
    """Raise :class:`SettingError` naming the first setting out of range or inconsistent."""
    _walk(cfg, Config, "")  # the strategy node as the common StrategyConf
    if "burst_day" in cfg.strategy:
        _walk(cfg.strategy, BurstConf, "strategy.")
    rhythm = list(cfg.audience.attention.rhythm)
    if (len(rhythm) != 24 or not all(math.isfinite(w) and w >= 0 for w in rhythm)
            or sum(rhythm) <= 0):
        raise _fail("audience.attention.rhythm", rhythm,
                    "24 non-negative weights, one per hour of the day, not all zero")
    if "burst_day" in cfg.strategy:
        s = cfg.strategy
        end = s.burst_day * 24 + s.burst_hour + s.burst_hours
        if end > cfg.days * 24:
            raise _fail("strategy.burst_hours", s.burst_hours,
                        f"a burst that ends within the run ({cfg.days} days = {cfg.days * 24} hours)",
                        why=f"The burst (day {s.burst_day}, hour {s.burst_hour}, {s.burst_hours} hours) "
                            f"ends at hour {end}, after the run ends.")
    from sim.engines import check_fits  # noqa: PLC0415 - engines reads this module's errors
    check_fits(cfg)


# --- Hydra's composition errors, in one paragraph -----------------------------------------------

def known_settings() -> list[str]:
    """Every setting's dotted name, from the schema (burst's own settings included)."""
    def walk(schema: type, prefix: str) -> list[str]:
        names = []
        for f in dataclasses.fields(schema):
            child = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
            if dataclasses.is_dataclass(child):
                names += walk(type(child), f"{prefix}{f.name}.")
            elif not f.name.startswith("_"):
                names.append(prefix + f.name)
        return names
    burst = [n for n in walk(BurstConf, "strategy.") if n not in walk(StrategyConf, "strategy.")]
    return walk(Config, "") + burst


def unknown_setting(key: str) -> SettingError:
    """A setting the run's configuration does not have: the nearest name, or the strategy
    that has it."""
    known = known_settings()
    if key in known:  # e.g. strategy.burst_day with strategy=steady
        return SettingError(f"Setting '{key}' belongs to the burst strategies (strategy=burst, "
                            f"obama_2011); this run's strategy has no such setting. Sweep it "
                            f"together with strategy=burst, in a sweep of its own.")
    near = difflib.get_close_matches(key, known, n=1)
    parent = key.rpartition(".")[0]
    siblings = [k.rpartition(".")[2] for k in known if k.rpartition(".")[0] == parent]
    hint = f" Did you mean '{near[0]}'?" if near else ""
    under = (f" The settings under '{parent}' are: {', '.join(siblings)}." if parent and siblings
             else "")
    return SettingError(f"Setting '{key}' does not exist.{hint}{under} python -m sim --help "
                        f"lists every setting.")


def composition_error(error: Exception) -> SettingError:
    """Hydra's message for a setting that does not exist, a group option that does not exist
    or a value of the wrong type, as one paragraph that says what is allowed."""
    text = " ".join(str(error).split())
    cause = " ".join(str(error.__cause__).split()).split(" full_key:")[0] if error.__cause__ else ""
    if m := re.search(r"Could not override '([^']+)'", text):
        return unknown_setting(m.group(1))
    if m := re.search(r"Could not find '([\w/]+)/([^']+)'", text):
        group, choice = m.groups()
        listed = re.search(r"Available options in '[^']+': (.*?) Config search path", text)
        allowed = ", ".join(listed.group(1).split()) if listed else "see python -m sim --help"
        extra = {"strategy": ", or your own class with strategy._target_=mymodule.MyStrategy",
                 "hydra/launcher": ". Launchers come with extras: pip install 'sim[joblib]', "
                                   "'sim[submitit]' or 'sim[ray]'"}.get(group, "")
        return SettingError(f"There is no {group} named '{choice}'. Allowed: {allowed}{extra}.")
    if m := re.search(r"Error merging override ([^=\s]+)=(\S*)", text):
        key, value = m.groups()
        return SettingError(f"Setting '{key}' = {value!r} is not allowed: {cause.rstrip('.')}. "
                            f"Change it on the command line ({key}=...).")
    if "override_grammar" in text:
        return SettingError(f"A setting on the command line cannot be read: {text.rstrip('.')}. Quote values "
                            f"with brackets or spaces, e.g. seed='range(0,10)'.")
    return SettingError(f"{text} {cause}".strip())


def fit_burst(cfg: DictConfig) -> list[str]:
    """Move a burst that starts after the run to the last day, and cut one that ends after it."""
    s, notes = cfg.strategy, []
    if "burst_day" not in s:
        return notes
    if s.burst_day >= cfg.days:
        notes.append(f"The burst was set for day {s.burst_day}, but the run has {cfg.days} "
                     f"days (0 to {cfg.days - 1}): it starts on day {cfg.days - 1} instead.")
        s.burst_day = cfg.days - 1
    room = cfg.days * 24 - (s.burst_day * 24 + s.burst_hour)
    if s.burst_hours > room:
        notes.append(f"A {s.burst_hours}-hour burst from day {s.burst_day}, {s.burst_hour}:00 "
                     f"would outlast the run: it is cut to {room} hours.")
        s.burst_hours = room
    return notes


def settings(*overrides: str) -> DictConfig:
    """Compose the settings as ``python -m sim OVERRIDES`` would (for tests, notebooks, apps)."""
    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    OmegaConf.set_readonly(cfg, False)
    return cfg
