"""The settings' schema: types and allowed ranges. Values live in the YAML files of ``conf/``.

Hydra merges the YAML groups onto these dataclasses (its structured configs), so a wrong type
is rejected before a run starts. Ranges cannot be expressed as types; each field carries its
range in ``metadata`` and :func:`sim.config.checks.check` names the first setting out of
bounds. A strategy's settings are declared by the strategy (``Strategy.Settings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from sim.model.ranges import PROBABILITY, setting
from sim.model.strategies import BUILT_IN, StrategySettings

_PACKAGE = Path(__file__).resolve().parents[1]
# Installed, the configs ship inside the package; in the source tree they sit beside it.
CONF_DIR = _PACKAGE / "conf" if (_PACKAGE / "conf").is_dir() else _PACKAGE.parent / "conf"
EXPERIMENTS_DIR = (_PACKAGE / "experiments" if (_PACKAGE / "experiments").is_dir()
                   else _PACKAGE.parent / "experiments")

ENGINES = ("auto", "agents", "vector")


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
    fame_per_day: float = setting(0, 0.1, doc="new followers a day per follower who find the "
                                              "account off the platform (0: an ordinary account)")
    interest: float = setting(0, 1, lo_open=True, hi_open=True,
                              doc="mean interest in the account's posts")
    interest_spread: float = setting(0, lo_open=True, doc="beta concentration of interest (higher: less spread)")
    tolerance: float = setting(1, lo_open=True, doc="median posts tolerated in a session, in what an average followee shows (> 1)")
    tolerance_spread: float = setting(0, 3, doc="log-normal sigma of tolerance minus one")
    fickleness_spread: float = setting(0, 3, doc="log-normal sigma of how readily people "
                                                 "unfollow (mean 1)")
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
    gain: float = setting(0, doc="annoyance from a session with one tolerated load too many")
    saturation: float = setting(0, lo_open=True,
                                doc="excess at which a session's annoyance is half its most "
                                    "(gain x saturation); no pattern pins it: a stated range")
    half_life_hours: float = setting(0, 24 * 365, lo_open=True, doc="how fast annoyance fades")


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
    share_satiation: float = setting(0, doc="how much recent posts of the account damp shares")
    act: float = setting(**PROBABILITY, doc="chance to act on a seen ask, at full interest and no credit")
    act_satiation: float = setting(0, doc="how much recent posts of the account damp actions")


@dataclass
class LeavingConf:
    churn: float = setting(0, 1, doc="baseline unfollow hazard per day, at zero interest")
    flooding: float = setting(0, doc="hazard per session (online hour) per unit of annoyance")
    debt_factor: float = setting(1, doc="hazard multiplier at full debt (its inverse at full credit)")
    mutual_factor: float = setting(0, 1, lo_open=True, doc="hazard multiplier on follow-back ties")
    acknowledged_factor: float = setting(0, 1, lo_open=True,
                                         doc="hazard multiplier on ties the account has answered")
    youth_extra: float = setting(0, doc="extra hazard of a brand-new tie, relative")
    youth_days: float = setting(0, lo_open=True, doc="tie age at which the extra hazard has halved")


@dataclass
class GrowthConf:
    share_reach: float = setting(0, doc="non-followers who see a shared post")
    reply_reach: float = setting(0, doc="non-followers who see the account answer someone")
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


# --- platform: what the platform and its era offer ---------------------------------------------

@dataclass
class PlatformConf:
    name: str = MISSING
    mute: bool = MISSING  # Twitter had no mute until 12 May 2014
    mute_share: float = setting(**PROBABILITY, doc="share of leavers who mute instead, where "
                                                   "muting exists (no pattern pins it)")


# --- strategy: what the account posts (each strategy declares its own settings) --------

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
    # run every member of an ensemble too (a shipped one by name, or a calibration's folder)
    ensemble: str | None = None
    budget: BudgetConf = field(default_factory=BudgetConf)
    audience: AudienceConf = field(default_factory=AudienceConf)
    behaviour: BehaviourConf = field(default_factory=BehaviourConf)
    platform: PlatformConf = field(default_factory=PlatformConf)
    strategy: StrategySettings = field(default_factory=StrategySettings)


def register() -> None:
    """Store the schemas so that the YAML files can start from them (Hydra's structured
    configs, extended in YAML with ``defaults: [/schema/NAME@_here_]``)."""
    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    # Kept out of the user's groups; YAML files start from them with /schema/NAME@_here_.
    cs.store(group="schema", name="audience", node=AudienceConf)
    cs.store(group="schema", name="behaviour", node=BehaviourConf)
    cs.store(group="schema", name="platform", node=PlatformConf)
    for name, cls in BUILT_IN.items():  # /schema/strategy/burst: Burst.Settings
        cs.store(group="schema/strategy", name=name, node=cls.Settings)
    # Named experiments live in experiments/ and are chosen with +experiment=NAME.
    for path in sorted(EXPERIMENTS_DIR.glob("*.yaml")):
        cs.store(group="experiment", name=path.stem, node=OmegaConf.load(path),
                 package="_global_")


def strategy_names() -> list[str]:
    """The strategies a user can choose with strategy=NAME: the files of conf/strategy/."""
    return sorted(p.stem for p in (CONF_DIR / "strategy").glob("*.yaml"))
