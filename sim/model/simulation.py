"""The simulation both engines share: one account, its followers, one step per hour.

An account with a posting strategy broadcasts to followers who have limited attention,
get annoyed when flooded, keep a reciprocity balance with the account, engage, act on asks,
and unfollow or mute. Shares bring the account to new people, some of whom follow.
The followers' rules live in :mod:`sim.model.rules`; an engine
(:mod:`~sim.model.agent_engine`, :mod:`~sim.model.array_engine`) schedules them for every
follower, and this module schedules the hour around them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import mesa
import numpy as np

from sim.model.account import Account
from sim.model.rules import HourEvents, Rules, newcomers
from sim.model.state import SUMMED, zero_state
from sim.model.strategies import Strategy
from sim.model.traits import draw_traits, rhythm


@dataclass
class Tally:
    """What happened in one hour, counted as it happens."""

    impressions: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    actions: int = 0
    unfollows: int = 0
    mutes: int = 0
    follows: int = 0
    replies_given: int = 0
    flooding: float = 0.0  # expected unfollows caused by flooding (attributed by hazard share)

    @property
    def engagements(self) -> int:
        return self.likes + self.comments + self.shares

    def record(self, hour: HourEvents) -> None:
        """Add one follower's online hour (counts arrive as floats from the rules)."""
        self.impressions += int(hour.seen_values + hour.seen_asks)
        self.likes += int(hour.likes)
        self.comments += int(hour.comments)
        self.shares += int(hour.shares)
        self.actions += int(hour.actions)

    def unfollowed(self, flooding_part: float) -> None:
        self.unfollows += 1
        self.flooding += flooding_part


TALLIED = [f.name for f in fields(Tally)]


class Audience(mesa.Model):
    """How an audience answers a posting strategy, hour by hour: what both engines share (the
    account and its strategy, the hour's tally, newcomers, the DataCollector). An engine adds
    the followers and schedules their hour."""

    engine = ""

    def __init__(self, cfg, strategy: Strategy) -> None:
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.hours = cfg.days * 24
        self.rules = Rules.from_settings(cfg)
        self.rhythm = rhythm(cfg.audience)
        self.growth = cfg.behaviour.growth
        self.comment_window = cfg.behaviour.growth.comment_window_hours
        self.tally = Tally()
        self.last_tally = Tally()
        self.hour = -1
        self.rhythm_now = self.rhythm[0]

        # A strategy that draws chances uses this generator, so a seed still fixes the run.
        strategy.rng = self._stream("strategy")
        self.account = Account(self, strategy)
        self.populate(cfg.audience)
        self.followers_start = self.follower_count

        self.datacollector = mesa.DataCollector(model_reporters={
            "hour": "hour",
            "followers": "follower_count",
            **{name: _tally_reporter(name) for name in TALLIED},
            "engagements": lambda m: m.tally.engagements,
            "posts": lambda m: m.account.plan.value_posts + m.account.plan.asks,
            "asks": lambda m: m.account.plan.asks,
            # the hourly mean of each variable the follower's declaration marks as summed
            **{f"mean_{name}": _mean_reporter(name) for name in SUMMED},
        })
        strategy.start(self.hours)

    # what an engine provides
    def populate(self, audience) -> None:
        """The audience at the start, in the state the account's history left it."""
        raise NotImplementedError

    def live_hour(self) -> None:
        """Every follower's hour (sim.model.rules's rules), counted into ``self.tally``."""
        raise NotImplementedError

    def add_followers(self, traits: dict, state: dict, since: np.ndarray) -> None:
        raise NotImplementedError

    def stop_following_back(self, n: int) -> None:
        """The account unfollows ``n`` of the followers it follows back, chosen at random: their
        ties become one-way."""
        raise NotImplementedError

    follower_count: int

    def mean_of(self, name: str) -> float:
        """The mean of a summed state variable (``sim.model.state.SUMMED``) over followers
        who log in and still follow."""
        raise NotImplementedError

    def step(self) -> None:
        """One hour: the account posts and replies, followers live their hour, newcomers join."""
        self.hour += 1
        self.rhythm_now = self.rhythm[self.hour % 24]
        self.last_tally, self.tally = self.tally, Tally()
        self.account.step()
        self.live_hour()
        self.tally.follows = self.welcome_newcomers()
        self.account.engagements += self.tally.engagements
        self.datacollector.collect(self)
        if self.hour + 1 >= self.hours:
            self.running = False

    def welcome_newcomers(self) -> int:
        """Shares reach non-followers, some of whom follow; others find the account anyway.

        Arrivals draw from a stream of their own for each hour, so two strategies run on the
        same seed meet the same arrivals when their shares and sizes agree (common random
        numbers make comparisons sharper).
        """
        rng = self._stream("newcomers", self.hour)
        n = newcomers(self.tally.shares, self.tally.replies_given, self.follower_count,
                      self.cfg.audience.fame_per_day, self.growth, rng)
        if n:
            traits = draw_traits(self.cfg.audience, self.rules, rng, n, active_share=1.0)
            self.add_followers(traits, zero_state(n), since=np.full(n, float(self.hour)))
        return n

    def _stream(self, purpose: str, *keys: int) -> np.random.Generator:
        """A generator for one purpose (and hour), derived from the run's seed."""
        return np.random.default_rng([self.cfg.seed, *purpose.encode(), *keys])


def _tally_reporter(name: str):
    return lambda m: getattr(m.tally, name)


def _mean_reporter(name: str):
    return lambda m: m.mean_of(name)


