"""Who the followers are, and the state years of the account's history leave them in.

Draws every follower's fixed traits (attention budget, feed crowding, activity, interest,
tolerance, follow-back) from the ``audience`` settings and sets the starting state that
the account's past cadence leaves behind (ODD: Initialization), so no warm-up is needed.
The result is a structure of arrays; the agent engine makes one Mesa agent per row.
"""

from __future__ import annotations

import numpy as np

from sim.model.rules import Rules
from sim.model.state import FOLLOWER, zero_state


def rhythm(audience) -> np.ndarray:
    """The daily rhythm of being online, scaled to mean 1 (so ``activity`` is an average)."""
    w = np.asarray(audience.attention.rhythm, dtype=float)
    return w * (24.0 / w.sum())


def lognormal(rng: np.random.Generator, median: float, spread: float, n: int) -> np.ndarray:
    return median * np.exp(spread * rng.standard_normal(n))


def seen_per_hour(activity, reads, crowd, posts_per_day: float, rules: Rules):
    """Posts a follower sees per hour, on average, from an account posting at this rate
    that takes no notable share of their feed: online chance x readable share x visibility."""
    usual_share = np.minimum(reads / crowd, 1.0)
    return activity * usual_share * (posts_per_day / 24.0) * rules.post_lifetime_hours


def draw_traits(audience, rules: Rules, rng: np.random.Generator, n: int,
                active_share: float) -> dict[str, np.ndarray]:
    """Fixed traits of ``n`` followers; a share ``1 - active_share`` never logs in."""
    a = audience.attention
    online_hours = np.clip(lognormal(rng, a.online_hours, a.online_spread, n), 0.05, 24.0)
    active = rng.random(n) < active_share
    activity = np.where(active, online_hours / 24.0, 0.0)
    reads_per_day = np.maximum(lognormal(rng, a.reads_per_day, a.reads_spread, n), 1.0)
    followees = np.maximum(lognormal(rng, a.followees, a.followees_spread, n), 1.0)
    crowd = followees * (a.other_posts_per_day / 24.0) * rules.post_lifetime_hours
    reads = reads_per_day / online_hours
    # What one average followee leaves in the follower's memory of recent posts.
    fair = (seen_per_hour(activity, reads, crowd, a.other_posts_per_day, rules)
            / (1.0 - rules.memory_keep))
    k = audience.interest_spread
    interest = rng.beta(audience.interest * k, (1.0 - audience.interest) * k, n)
    # Nobody minds an account that posts no more than an average followee: tolerance >= 1.
    tolerance = 1.0 + lognormal(rng, audience.tolerance - 1.0, audience.tolerance_spread, n)
    mutual = (rng.random(n) < audience.mutual_share).astype(np.int8)
    # People differ in how readily they unfollow anyone (P2 with P11a): mean 1, log-normal.
    s = audience.fickleness_spread
    fickleness = np.exp(s * rng.standard_normal(n) - s * s / 2.0)
    return {"activity": activity, "reads": reads, "crowd": crowd, "fair": fair,
            "interest": interest, "tolerance": tolerance, "mutual": mutual,
            "fickleness": fickleness}


def settled_state(traits: dict[str, np.ndarray], audience, rules: Rules,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The state a long history at ``history.posts_per_day`` (no replies) leaves behind, with
    the tie's ``age``; variables declared to start at zero (:mod:`sim.model.state`) do.

    Each settled quantity is the fixed point of its hourly rule under the average exposure:
    memory and balance at their steady level, tie ages exponential (ties ending at a steady
    rate, whatever their age). Annoyance starts at zero: it is a reaction to sessions with
    more of the account than a follower tolerates (at least tolerance times one post, and
    tolerance > 1), which a history of about one post a day does not give, and it fades
    within a day.
    """
    n = len(traits["activity"])
    seen = seen_per_hour(traits["activity"], traits["reads"], traits["crowd"],
                         audience.history.posts_per_day, rules)
    recent = seen / (1.0 - rules.memory_keep)
    balance = rules.value_credit * seen / (1.0 - rules.balance_keep)
    annoyance = np.zeros(n)
    age = rng.exponential(audience.history.tie_age_days * 24.0, n)
    settled = {"annoyance": annoyance, "balance": balance, "recent": recent}
    zero = zero_state(n)
    state = {v.name: settled[v.name] if v.start == "settled" else zero[v.name]
             for v in FOLLOWER if v.kind == "state"}
    return {**state, "age": age}
