"""The account that posts: a Mesa agent whose strategy plans each hour. Both engines share it."""

from __future__ import annotations

from collections import deque

import mesa

from sim.model.rules import acknowledge, post_visibility
from sim.model.strategies import AccountView, Plan, Strategy, checked_plan


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
        model.tally.replies_given += self.reply(plan.replies, plan.follow_backs)
        if plan.unfollow_backs:
            model.stop_following_back(plan.unfollow_backs)

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

    def reply(self, n: int, follow_backs: int = 0) -> int:
        """Answer up to ``n`` waiting replies, oldest first; gone followers are skipped. Of
        those answered, follow back up to ``follow_backs`` who were not followed back: the tie
        becomes reciprocal (and as sturdy as P3 says reciprocal ties are)."""
        given = 0
        while given < n and self.waiting:
            _, follower = self.waiting.popleft()
            if getattr(follower, "gone", False):
                continue
            acknowledge(follower, 1, self.model.rules)
            if follow_backs > 0 and not follower.mutual:
                follower.mutual = 1
                follow_backs -= 1
            given += 1
        return given

