"""The Mesa agents: one account that posts, and its followers.

Agents schedule the rules of :mod:`sim.follower`; they do not restate them.
"""

from __future__ import annotations

from collections import deque

import mesa

from sim.follower import (DRAWS_PER_ONLINE_HOUR, acknowledge, is_online, pass_time,
                          post_visibility, spend_online_hour)
from sim.strategies import AccountView, Plan, Strategy, checked_plan


class Follower(mesa.Agent):
    """One follower of the account. Traits and state are plain numbers named as in the rules."""

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
                "crowd": self.crowd, "left": self.model.hour}

    def remove(self) -> None:
        self.model.active.discard(self)
        self.gone = True
        super().remove()


class Account(mesa.Agent):
    """The account that posts. Its strategy plans each hour; it keeps its posts' visibility."""

    def __init__(self, model: mesa.Model, strategy: Strategy) -> None:
        super().__init__(model)
        self.strategy = strategy
        self.fresh_values = 0.0  # the account's value posts still near the top of feeds
        self.fresh_asks = 0.0
        self.waiting: deque = deque()  # (hour, follower) replies that wait for an answer
        self.engagements = 0
        self.plan = Plan()

    def view(self) -> AccountView:
        model = self.model
        last = model.last_tally
        return AccountView(hour=model.hour, hours=model.hours, followers=model.follower_count,
                           engagements=self.engagements,
                           engagements_last_hour=last.engagements,
                           comments_waiting=len(self.waiting),
                           comments_new=self._arrived_last_hour())

    def step(self) -> None:
        model = self.model
        self._forget_old_comments()
        plan = checked_plan(self.strategy.plan(self.view()), self.strategy)
        self.plan = plan
        self.fresh_values = post_visibility(self.fresh_values, plan.value_posts, model.rules)
        self.fresh_asks = post_visibility(self.fresh_asks, plan.asks, model.rules)
        model.tally.replies_given += self.reply(plan.replies)

    def _arrived_last_hour(self) -> int:
        last, n = self.model.hour - 1, 0
        for hour, _ in reversed(self.waiting):
            if hour < last:
                break
            n += 1
        return n

    def _forget_old_comments(self) -> None:
        oldest = self.model.hour - self.model.comment_window
        while self.waiting and self.waiting[0][0] < oldest:
            self.waiting.popleft()

    def reply(self, n: int) -> int:
        """Answer up to ``n`` waiting replies, oldest first; gone followers are skipped."""
        given = 0
        while given < n and self.waiting:
            _, follower = self.waiting.popleft()
            if getattr(follower, "gone", False):
                continue
            acknowledge(follower, 1, self.model.rules)
            given += 1
        return given

