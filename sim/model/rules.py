"""What a follower does in an hour: the model's rules, in one place.

Every hour, for every follower:

1. **Time passes.** Annoyance fades within hours to a day, the reciprocity balance erodes
   towards zero (a silent account loses its credit), the memory of the account's recent posts
   fades, the tie ages by an hour.
2. **Online or not.** A follower is online this hour with a chance set by their own activity and
   the daily rhythm. Inactive followers never are. Offline, nothing else happens.
3. **Reading the feed.** Online, the follower reads a limited number of posts (their attention
   budget). The feed holds the fresh posts of all the other accounts they follow (the crowd)
   and the account's fresh posts, each weighted by its visibility, which decays fast with the
   post's age. The follower sees the share of the account's fresh posts that the budget
   covers; someone online for several hours in a row meets a post again while it is still
   visible. A muted follower sees none.
4. **Annoyance.** Annoyance is a reaction to what is seen, judged session by session: when
   the account's posts seen in this session exceed what the follower tolerates from one
   account in a session (their tolerance times what an average followee shows them in it,
   and never less than one post), annoyance grows with the excess, and the growth saturates:
   a little over is shrugged off, a flood annoys, a deluge annoys little more than a flood.
   A session in which the follower sees none of the account's posts adds nothing.
5. **Reciprocity.** Useful posts seen add to the balance; asks draw on it once a session,
   however many are seen (a campaign is one request to the relationship); replies from the
   account (acknowledgement) add to it when they arrive (:func:`acknowledge`). The balance sets
   the follower's *credit* with the account, between -1 (deep debt) and 1.
6. **Engagement.** Each seen post may be liked, replied to or shared; the chances grow with
   interest and credit, and shrink with how many of the account's posts the follower saw
   lately, this hour's included (satiation).
7. **Actions.** Each seen ask is acted on (call, sign, donate) with a chance that grows with
   interest and credit and shrinks with the account's posts seen lately: the tenth ask in an
   hour moves less than the first.
8. **Unfollow or mute.** Two causes, each counted once: a baseline hazard (falls with interest,
   rises with debt, falls with credit) and a flooding hazard (rises with annoyance). Neither
   multiplies the other. Both are higher for young ties, lower on follow-back ties and on
   ties the account has acknowledged. Where the platform has muting, a share of leavers mutes
   instead: still a follower, sees nothing of the account, and its annoyance no longer drives
   leaving (muting is relief).

The functions below take a follower ``f`` whose attributes are either numbers (one Mesa agent)
or numpy arrays (many followers at once), and uniform random numbers ``u`` of the same shape.
They use only arithmetic and comparisons (no numpy calls: on one agent those cost more than
the arithmetic), so the same code serves both; an engine decides when to call them and for
whom, and never restates them. The account's side (how its posts stay visible, how
newcomers arrive) is at the end of the module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

LN2 = math.log(2.0)
DRAWS_PER_ONLINE_HOUR = 8  # uniforms that spend_online_hour consumes


class HourEvents(NamedTuple):
    """What one online follower did in an hour (numbers, or arrays for many followers)."""

    seen_values: Any
    seen_asks: Any
    likes: Any
    comments: Any
    shares: Any
    actions: Any
    unfollows: Any  # 0/1
    mutes: Any  # 0/1
    flooding_part: Any  # share of the hazard that annoyance caused (attributes unfollows)


def positive(x: Any) -> Any:
    """max(x, 0) for a number or an array."""
    return (x + abs(x)) * 0.5


def at_least(x: Any, floor: Any) -> Any:
    """max(x, floor) for numbers or arrays."""
    return floor + positive(x - floor)


def at_most(x: Any, ceiling: Any) -> Any:
    """min(x, ceiling) for numbers or arrays."""
    return ceiling - positive(ceiling - x)


def stochastic_round(x: Any, u: Any) -> Any:
    """A whole count with mean ``x``: floor(x) plus one with chance frac(x)."""
    return (x + u) // 1.0


def chance(hazard: Any) -> Any:
    """The chance that an event with this hazard happens within the hour."""
    return 1.0 - math.e ** -hazard


def hours_online_per_day(f: Any) -> Any:
    """Expected online hours a day; daily rates are spread over them (never zero)."""
    return 24.0 * at_least(f.activity, 1e-9)


def per_hour(half_life_hours: float) -> float:
    """The factor that a quantity with this half-life keeps after one hour."""
    return 2.0 ** (-1.0 / half_life_hours)


@dataclass(frozen=True, slots=True)
class Rules:
    """The behaviour parameters in the per-hour form the rules use (from ``cfg.behaviour``)."""

    annoyance_keep: float
    balance_keep: float
    memory_keep: float
    post_keep: float
    first_hour_visibility: float
    post_lifetime_hours: float
    annoyance_gain: float
    annoyance_saturation: float
    followee_fresh: float
    value_credit: float
    reply_credit: float
    ask_cost: float
    credit_scale: float
    sensitivity: float
    like: float
    comment: float
    share: float
    like_satiation: float
    comment_satiation: float
    share_satiation: float
    act: float
    act_satiation: float
    churn: float
    flooding: float
    debt_factor: float
    mutual_factor: float
    acknowledged_factor: float
    youth_extra: float
    youth_hours: float
    mute_share: float

    @classmethod
    def from_settings(cls, cfg: Any) -> Rules:
        """From a run's settings: its behaviour, its audience's feed and its platform."""
        return cls.from_config(cfg.behaviour, cfg.audience.attention.other_posts_per_day,
                               cfg.platform.mute_share if cfg.platform.mute else 0.0)

    @classmethod
    def from_config(cls, b: Any, followee_posts_per_day: float, mute_share: float) -> Rules:
        """From the ``behaviour`` settings (any tree with attribute access), the posts a day of
        an average followee (``audience.attention.other_posts_per_day``) and the share of
        leavers who mute (0 where the platform has no mute)."""
        post_half_life_hours = b.feed.post_half_life_minutes / 60.0
        decay_rate = LN2 / post_half_life_hours  # per hour
        post_keep = math.exp(-decay_rate)
        return cls(
            annoyance_keep=per_hour(b.annoyance.half_life_hours),
            balance_keep=per_hour(b.reciprocity.half_life_days * 24.0),
            memory_keep=per_hour(b.feed.memory_half_life_hours),
            post_keep=post_keep,
            # A post's visibility over its first hour, averaged: (1 - e^-r) / r.
            first_hour_visibility=(1.0 - post_keep) / decay_rate,
            post_lifetime_hours=1.0 / decay_rate,
            annoyance_gain=b.annoyance.gain,
            annoyance_saturation=b.annoyance.saturation,
            # An average followee's posts in the feed, weighted by visibility, as the account's.
            followee_fresh=followee_posts_per_day / 24.0 / decay_rate,
            value_credit=b.reciprocity.value_credit,
            reply_credit=b.reciprocity.reply_credit,
            ask_cost=b.reciprocity.ask_cost,
            credit_scale=b.reciprocity.credit_scale,
            sensitivity=b.reciprocity.sensitivity,
            like=b.engagement.like,
            comment=b.engagement.comment,
            share=b.engagement.share,
            like_satiation=b.engagement.like_satiation,
            comment_satiation=b.engagement.comment_satiation,
            share_satiation=b.engagement.share_satiation,
            act=b.engagement.act,
            act_satiation=b.engagement.act_satiation,
            churn=b.leaving.churn,
            flooding=b.leaving.flooding,
            debt_factor=b.leaving.debt_factor,
            mutual_factor=b.leaving.mutual_factor,
            acknowledged_factor=b.leaving.acknowledged_factor,
            youth_extra=b.leaving.youth_extra,
            youth_hours=b.leaving.youth_days * 24.0,
            mute_share=mute_share,
        )


# 1. Time passes -----------------------------------------------------------------------------

def pass_time(f: Any, r: Rules) -> None:
    """An hour goes by: annoyance fades, the balance erodes, memory fades.

    The tie ages too; engines give ``f.age`` as hours since the tie began.
    """
    f.annoyance = f.annoyance * r.annoyance_keep
    f.balance = f.balance * r.balance_keep
    f.recent = f.recent * r.memory_keep


# 2. Online or not ---------------------------------------------------------------------------

def is_online(f: Any, rhythm_now: float, u: Any) -> Any:
    """Online this hour? ``activity`` is the chance at an average hour (0 when inactive)."""
    return u < f.activity * rhythm_now


# 3.-8. An online hour -----------------------------------------------------------------------

def credit(balance: Any, r: Rules) -> Any:
    """The relationship as the follower feels it: from -1 (deep debt) to 1 (much goodwill)."""
    return balance / (r.credit_scale + abs(balance))


def read_feed(f: Any, fresh_values: float, fresh_asks: float, u_value: Any, u_ask: Any) -> tuple:
    """Posts of the account the follower sees this hour: (value posts, asks)."""
    feed = f.crowd + fresh_values + fresh_asks
    readable = at_most(f.reads / feed, 1.0) * (1 - f.muted)
    return (stochastic_round(fresh_values * readable, u_value),
            stochastic_round(fresh_asks * readable, u_ask))


def tolerated_in_session(f: Any, fresh_values: float, fresh_asks: float, r: Rules) -> Any:
    """The account's posts a follower tolerates in this session: their tolerance times what an
    average followee shows them in it (their reading times its share of the feed), never less
    than tolerance times one post."""
    feed = f.crowd + fresh_values + fresh_asks
    read = at_most(f.reads, feed)
    return f.tolerance * at_least(read * r.followee_fresh / feed, 1.0)


def annoyance_growth(seen: Any, tolerated: Any, r: Rules) -> Any:
    """Annoyance from one session: the excess of posts seen over those tolerated, with a
    response that saturates (``gain * x / (1 + x / saturation)``: linear for a little over,
    at most ``gain * saturation`` for a deluge)."""
    excess = positive(seen / tolerated - 1.0)
    return r.annoyance_gain * excess / (1.0 + excess / r.annoyance_saturation)


def unfollow_hazard(f: Any, trust: Any, r: Rules) -> tuple:
    """Hazard of leaving in this online hour, and the share of it that flooding causes.

    Baseline leaving is a daily rate spread over the follower's online hours (spending more
    time online is no reason to leave); interest lowers it, debt raises it and credit lowers
    it. Flooding acts per session through annoyance, which a muted follower no longer feels
    as a reason to leave. The follower's fickleness, the tie's youth (a new follower is on
    trial for ``youth_hours``), follow-back and acknowledgement scale both.
    """
    youth = 1.0 + r.youth_extra * (f.age < r.youth_hours)
    bond = (r.mutual_factor ** f.mutual) * (r.acknowledged_factor ** at_most(f.acknowledged, 1.0))
    baseline = r.churn * (1.0 - f.interest) * r.debt_factor ** (-trust) / hours_online_per_day(f)
    flooding = r.flooding * f.annoyance * (1 - f.muted)
    pressure = baseline + flooding
    return f.fickleness * youth * bond * pressure, flooding / (pressure + 1e-300)


def spend_online_hour(f: Any, fresh_values: float, fresh_asks: float, u: Any,
                      r: Rules) -> HourEvents:
    """Everything an online follower does in an hour: updates ``f`` (memory, annoyance,
    balance, muting) and returns the events. ``u`` holds DRAWS_PER_ONLINE_HOUR uniforms."""
    u_value, u_ask, u_like, u_comment, u_share, u_act, u_leave, u_mute = u
    seen_values, seen_asks = read_feed(f, fresh_values, fresh_asks, u_value, u_ask)
    seen = seen_values + seen_asks
    # Satiation: the account's posts seen before, plus on average half of this hour's others.
    lately = f.recent + 0.5 * positive(seen - 1.0)
    f.recent = f.recent + seen
    f.annoyance = f.annoyance + annoyance_growth(
        seen, tolerated_in_session(f, fresh_values, fresh_asks, r), r)
    # A campaign of asks seen in one session is one request: credit is drawn once.
    f.balance = f.balance + r.value_credit * seen_values - r.ask_cost * at_most(seen_asks, 1.0)

    trust = credit(f.balance, r)
    warmth = f.interest * (1.0 + r.sensitivity * trust)
    likes = stochastic_round(seen * r.like * warmth / (1.0 + r.like_satiation * lately), u_like)
    comments = stochastic_round(seen * r.comment * warmth / (1.0 + r.comment_satiation * lately),
                                u_comment)
    shares = stochastic_round(seen * r.share * warmth / (1.0 + r.share_satiation * lately), u_share)
    actions = stochastic_round(seen_asks * r.act * warmth / (1.0 + r.act_satiation * lately), u_act)

    hazard, flooding_part = unfollow_hazard(f, trust, r)
    leaves = u_leave < chance(hazard)
    mutes = leaves * (u_mute < r.mute_share) * (1 - f.muted)  # the already muted unfollow
    f.muted = f.muted + mutes
    return HourEvents(seen_values, seen_asks, likes, comments, shares, actions,
                      leaves * (1 - mutes), mutes, flooding_part)


def acknowledge(f: Any, replies: Any, r: Rules) -> None:
    """Replies from the account reach the follower: acknowledgement adds to the balance, and
    an acknowledged tie is sturdier from then on (``acknowledged_factor``)."""
    f.balance = f.balance + r.reply_credit * replies
    f.acknowledged = f.acknowledged + replies


# The account's side ----------------------------------------------------------------------------

def post_visibility(fresh: float, new_posts: int, r: Rules) -> float:
    """The account's posts still near the top of feeds, weighted by how visible each still is:
    older posts fade by ``post_keep`` an hour, new ones count their first hour's visibility."""
    return fresh * r.post_keep + new_posts * r.first_hour_visibility


def newcomers(shares: int, replies: int, followers: int, fame_per_day: float, growth: Any,
              rng: Any) -> int:
    """People who start following this hour. Earned: some of those who saw a share, and some
    of those who saw the account answer someone (directed engagement is seen by the
    replier's own followers). Given: fame, discovery from outside the platform in proportion
    to the account's size (zero for an ordinary account, so a silent one stops growing)."""
    expected = ((shares * growth.share_reach + replies * growth.reply_reach) * growth.conversion
                + followers * fame_per_day / 24.0)
    return int(rng.poisson(expected))
