"""The Mesa agents: one account that posts, and its followers.

Agents schedule the rules of :mod:`sim.follower`; they do not restate them.
"""

from __future__ import annotations

from collections import deque

import mesa

from sim.follower import (DRAWS_PER_ONLINE_HOUR, acknowledge, is_online, pass_time,
                          spend_online_hour)
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
        u = [rand() for _ in range(DRAWS_PER_ONLINE_HOUR)]
        account = model.account
        (seen_values, seen_asks, likes, comments, shares, actions, leaves, mutes,
         flooding) = spend_online_hour(self, account.fresh_values, account.fresh_asks, u, rules)
        tally = model.tally
        tally.online += 1
        if seen_values or seen_asks:
            tally.impressions += seen_values + seen_asks
            tally.likes += likes
            tally.comments += comments
            tally.shares += shares
            tally.actions += actions
            if comments:
                account.waiting.append((model.hour, self))
        if leaves:
            tally.unfollows += 1
            tally.flooding += flooding
            model.departed.append(self.tie())
            self.remove()
        elif mutes:
            tally.mutes += 1
            self.muted = 1

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
                           engagements_last_hour=last.engagements if last else 0,
                           comments_waiting=len(self.waiting),
                           comments_new=self._arrived_last_hour())

    def step(self) -> None:
        model = self.model
        self._forget_old_comments()
        plan = checked_plan(self.strategy.plan(self.view()), self.strategy)
        self.plan = plan
        r = model.rules
        self.fresh_values = self.fresh_values * r.post_keep + plan.value_posts * r.first_hour_visibility
        self.fresh_asks = self.fresh_asks * r.post_keep + plan.asks * r.first_hour_visibility
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

