"""The agent engine (``engine=agents``): one Mesa agent per follower.

Agents schedule the rules of :mod:`sim.model.rules`; they do not restate them.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
from mesa.agent import AgentSet

from sim.model.rules import DRAWS_PER_ONLINE_HOUR, is_online, pass_time, spend_online_hour
from sim.model.simulation import Audience
from sim.model.state import FOLLOWER
from sim.model.traits import draw_traits, settled_state

# A Mesa agent's attributes: every declared variable, and ``fair``, derived once and kept.
ATTRIBUTES = (*(v.name for v in FOLLOWER), "fair")


class Follower(mesa.Agent):
    """One follower of the account. Traits and state (:data:`ATTRIBUTES`) are plain numbers
    named as in the rules."""

    def __init__(self, model: mesa.Model, since: float, **traits_and_state: float) -> None:
        super().__init__(model)
        self.since = since  # hour the tie began (negative: before the run)
        self.__dict__.update(traits_and_state)

    @property
    def age(self) -> float:
        """Age of the tie in hours."""
        return self.model.hour - self.since

    def step(self) -> None:
        model = self.model
        rules = model.rules
        pass_time(self, rules)
        rand = self.random.random
        if not is_online(self, model.rhythm_now, rand()):
            return
        account = model.account
        hour = spend_online_hour(self, account.fresh_values, account.fresh_asks,
                                 [rand() for _ in range(DRAWS_PER_ONLINE_HOUR)], rules)
        if hour.seen_values or hour.seen_asks:
            model.tally.record(hour)
            if hour.comments:
                account.waiting.append((model.hour, self))
        if hour.unfollows:
            model.tally.unfollowed(hour.flooding_part)
            model.departed.append(self.tie())
            self.remove()
        elif hour.mutes:
            model.tally.mutes += 1

    def tie(self) -> dict:
        """The tie as a record, for the model's list of ties (who left, when, why)."""
        return {"since": self.since, "mutual": self.mutual, "active": self.activity > 0,
                "acknowledged": self.acknowledged, "muted": self.muted,
                "crowd": self.crowd, "fickleness": self.fickleness, "left": self.model.hour}

    def remove(self) -> None:
        self.model.active.discard(self)
        self.gone = True
        super().remove()


class AudienceModel(Audience):
    """The agent engine (``engine=agents``): one Mesa agent per follower."""

    engine = "agents"

    def populate(self, audience) -> None:
        self.departed: list[dict] = []  # ties that ended, as Follower.tie() records
        self.active = AgentSet([], random=self.random)  # followers who ever log in
        traits = draw_traits(audience, self.rules, self.rng, audience.size,
                             active_share=1.0 - audience.inactive_share)
        state = settled_state(traits, audience, self.rules, self.rng)
        self.add_followers(traits, state, since=-state.pop("age"))

    def live_hour(self) -> None:
        self.active.shuffle_do("step")

    @property
    def follower_count(self) -> int:
        return len(self.agents_by_type.get(Follower, ()))

    def mean_of(self, name: str) -> float:
        return _mean(self.active, name)

    def stop_following_back(self, n: int) -> None:
        mutual = [f for f in self.agents_by_type.get(Follower, ()) if f.mutual]
        rng = self._stream("unfollow_backs", self.hour)
        for i in rng.permutation(len(mutual))[:n]:
            mutual[i].mutual = 0

    def ties(self) -> pd.DataFrame:
        """Every tie of the run, current and ended: when it began, its kind, when it ended."""
        current = [f.tie() | {"left": np.nan} for f in self.agents_by_type.get(Follower, ())]
        return pd.DataFrame(self.departed + current)

    def add_followers(self, traits: dict, state: dict, since: np.ndarray) -> None:
        columns = {**traits, **state}
        rows = zip(*(columns[k].tolist() for k in ATTRIBUTES), since.tolist())
        for row in rows:
            follower = Follower(self, since=row[-1], **dict(zip(ATTRIBUTES, row[:-1])))
            if follower.activity > 0:
                self.active.add(follower)


def _mean(agents: AgentSet, attribute: str) -> float:
    return float(np.mean(agents.get(attribute))) if len(agents) else 0.0
