"""The array engine (``engine=vector``): followers as columns of numbers, for audiences of
millions.

It runs the rules of :mod:`sim.model.rules` unchanged. With numba, they are compiled and applied
to one follower at a time in a parallel loop. Without numba, they are applied to numpy
arrays, a block of followers at a time. The account, its strategy, its replies and the
newcomers are those of :class:`sim.model.Audience`, which both engines share.

What a follower costs (27 bytes, see :data:`BYTES_PER_FOLLOWER`):

- **traits**, 2 bytes each. Activity, posts read an hour, feed crowding and tolerance are
  stored as 16-bit codes on a log scale (relative error below 0.03 %); interest is stored on
  a linear scale. A follower's fair share of the feed is recomputed from these when needed.
- **state**: annoyance, balance and memory of recent posts as 32-bit floats, the hour the tie
  began, and one byte of flags (follow-back, muted, gone, acknowledged, replied this hour).

Random numbers come from :mod:`sim.model.streams`, keyed by seed, hour, follower and draw. The
sums for each hour are taken over fixed blocks of followers and then added in block order,
so a seed gives the same tables whatever the number of threads.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
import types
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from sim.model import traits as traits_module
from sim.model import rules as rules_module
from sim.model import streams
from sim.model.traits import draw_traits, settled_state
from sim.model.rules import DRAWS_PER_ONLINE_HOUR, Rules
from sim.model.state import capacity_for
from sim.model.simulation import Audience

try:  # numba is optional: without it the same rules run on numpy arrays, more slowly
    if os.environ.get("SIM_NUMBA", "1") == "0":
        raise ImportError("disabled by SIM_NUMBA=0")
    import numba
except ImportError:
    numba = None

BLOCK = 1 << 14  # followers per block: the unit of parallel work and of partial sums
FOLLOWERS_PURPOSE = 1  # run_key purpose of the followers' hourly draws

# flags, one byte per follower
MUTUAL, MUTED, GONE, ACKNOWLEDGED, REPLIED = 1, 2, 4, 8, 16

# 16-bit codes: 0 is an exact zero; 1..65535 span LOG_LOW..LOG_HIGH on a log scale
LOG_LOW, LOG_HIGH = np.log(1e-6), np.log(1e6)
LOG_STEP = (LOG_HIGH - LOG_LOW) / 65534.0
LOG_VALUES = np.concatenate([[0.0], np.exp(LOG_LOW + LOG_STEP * np.arange(65535))])
SHARE_VALUES = (np.arange(65536) + 0.5) / 65536.0  # interest, a share in (0, 1)

TRAIT_COLUMNS = ("activity", "reads", "crowd", "tolerance", "interest")  # uint16 each
STATE_COLUMNS = {"annoyance": np.float32, "balance": np.float32, "recent": np.float32,
                 "since": np.float32, "flags": np.uint8}
BYTES_PER_FOLLOWER = 2 * len(TRAIT_COLUMNS) + sum(np.dtype(t).itemsize
                                                  for t in STATE_COLUMNS.values())

# the hour's sums, one row per block
SUMS = ("impressions", "likes", "comments", "shares", "actions", "unfollows", "mutes",
        "flooding", "annoyance", "balance", "active")
SCRATCH = np.dtype([(name, np.float64) for name in (
    "activity", "reads", "crowd", "fair", "interest", "tolerance", "mutual", "age", "muted",
    "annoyance", "balance", "recent", "acknowledged")])


def log_code(x: np.ndarray) -> np.ndarray:
    """16-bit log-scale codes of positive values (0 stays 0)."""
    x = np.asarray(x, dtype=np.float64)
    code = np.rint((np.log(np.clip(x, 1e-6, 1e6, where=x > 0, out=np.full_like(x, 1.0)))
                    - LOG_LOW) / LOG_STEP) + 1
    return np.where(x > 0, code, 0).astype(np.uint16)


def share_code(x: np.ndarray) -> np.ndarray:
    """16-bit codes of shares in (0, 1)."""
    return np.clip(np.floor(np.asarray(x) * 65536.0), 0, 65535).astype(np.uint16)


CompiledRules = namedtuple("CompiledRules", list(Rules.__dataclass_fields__))


def rules_tuple(r: Rules) -> CompiledRules:
    """The rules' parameters as a named tuple, which compiled code can read."""
    return CompiledRules(*(getattr(r, k) for k in CompiledRules._fields))


# --- the rules, compiled -----------------------------------------------------------------------

def _compile_rules():
    """numba versions of the rule functions, calling each other compiled: the same source."""
    names = {}
    for module in (rules_module, traits_module, streams):
        space = dict(vars(module))
        for name, fn in list(space.items()):
            if inspect.isfunction(fn) and fn.__module__ == module.__name__:
                clone = types.FunctionType(fn.__code__, space, name, fn.__defaults__,
                                           fn.__closure__)
                space[name] = numba.njit(cache=True, error_model="numpy")(clone)
                names[name] = space[name]
    return SimpleNamespace(**names)


def _live_hour(activity, reads, crowd, tolerance, interest, annoyance, balance, recent,
              since, flags, n, hour, rhythm_now, fresh_values, fresh_asks, key, r,
              other_posts, log_values, share_values, scratch, sums):
    """Every follower's hour, compiled: a parallel loop over fixed blocks of followers, each
    block writing its own row of ``sums``."""
    blocks = (n + BLOCK - 1) // BLOCK
    h = _hour_key(key, np.uint64(hour))
    for b in prange(blocks):
        f = scratch[b]
        impressions = likes = comments = shares = actions = 0.0
        unfollows = mutes = flooding = ann_sum = bal_sum = active = 0.0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            flag = flags[i]
            code = activity[i]
            if flag & GONE or code == 0:
                continue  # gone, or never logs in
            f.annoyance = annoyance[i]
            f.balance = balance[i]
            f.recent = recent[i]
            f.activity = log_values[code]
            _pass_time(f, r)
            if _is_online(f, rhythm_now, _uniform(h, np.uint64(i), np.uint64(0))):
                f.reads = log_values[reads[i]]
                f.crowd = log_values[crowd[i]]
                f.tolerance = log_values[tolerance[i]]
                f.interest = share_values[interest[i]]
                f.fair = (_seen_per_hour(f.activity, f.reads, f.crowd, other_posts, r)
                          / (1.0 - r.memory_keep))
                f.mutual = 1.0 if flag & MUTUAL else 0.0
                f.muted = 1.0 if flag & MUTED else 0.0
                f.age = hour - since[i]
                ii = np.uint64(i)
                u = (_uniform(h, ii, np.uint64(1)), _uniform(h, ii, np.uint64(2)),
                     _uniform(h, ii, np.uint64(3)), _uniform(h, ii, np.uint64(4)),
                     _uniform(h, ii, np.uint64(5)), _uniform(h, ii, np.uint64(6)),
                     _uniform(h, ii, np.uint64(7)), _uniform(h, ii, np.uint64(8)))
                ev = _spend(f, fresh_values, fresh_asks, u, r)
                impressions += ev.seen_values + ev.seen_asks
                likes += ev.likes
                comments += ev.comments
                shares += ev.shares
                actions += ev.actions
                if ev.comments > 0:
                    flag |= REPLIED
                if f.muted > 0:
                    flag |= MUTED
                mutes += ev.mutes
                if ev.unfollows > 0:
                    flag |= GONE
                    unfollows += 1.0
                    flooding += ev.flooding_part
            annoyance[i] = f.annoyance
            balance[i] = f.balance
            recent[i] = f.recent
            flags[i] = flag
            if not flag & GONE:
                ann_sum += annoyance[i]
                bal_sum += balance[i]
                active += 1.0
        sums[b, 0] = impressions
        sums[b, 1] = likes
        sums[b, 2] = comments
        sums[b, 3] = shares
        sums[b, 4] = actions
        sums[b, 5] = unfollows
        sums[b, 6] = mutes
        sums[b, 7] = flooding
        sums[b, 8] = ann_sum
        sums[b, 9] = bal_sum
        sums[b, 10] = active



def _cache_key() -> str:
    """A hash of every source the compiled hour is built from: numba only notices when a
    function's own file changes, so an edited rule must not find the old machine code."""
    sources = (rules_module, traits_module, streams, sys.modules[__name__])
    digest = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in sources))
    return digest.hexdigest()[:16]


if numba is not None:  # the kernel and the rules it calls, compiled once and cached on disk
    CACHE_KEY = _cache_key()
    numba.config.CACHE_DIR = str(Path(numba.config.CACHE_DIR or
                                      Path.home() / ".cache" / "sim-numba") / CACHE_KEY)
    _rules = _compile_rules()
    _pass_time, _is_online, _spend = _rules.pass_time, _rules.is_online, _rules.spend_online_hour
    _seen_per_hour, _uniform, _hour_key = _rules.seen_per_hour, _rules.uniform, _rules.hour_key
    prange = numba.prange
    compiled_live_hour = numba.njit(parallel=True, cache=True, error_model="numpy")(_live_hour)
else:
    compiled_live_hour = None


# --- the same hour on numpy arrays -------------------------------------------------------------

def live_hour_numpy(activity, reads, crowd, tolerance, interest, annoyance, balance, recent,
                    since, flags, n, hour, rhythm_now, fresh_values, fresh_asks, key, r,
                    other_posts, log_values, share_values, scratch, sums):
    """The hour without numba: the rules on a block of followers at once (same blocks, same
    random numbers, same sums)."""
    with np.errstate(over="ignore"):
        h = streams.hour_key(key, np.uint64(hour))
    for b in range((n + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        flag = flags[lo:hi]
        code = activity[lo:hi]
        live = np.flatnonzero(((flag & GONE) == 0) & (code > 0))
        flag_live = flag[live]
        f = SimpleNamespace(annoyance=annoyance[lo:hi][live].astype(np.float64),
                            balance=balance[lo:hi][live].astype(np.float64),
                            recent=recent[lo:hi][live].astype(np.float64),
                            activity=log_values[code[live]])
        rules_module.pass_time(f, r)
        who = (live + lo).astype(np.uint64)
        with np.errstate(over="ignore"):
            online = rules_module.is_online(f, rhythm_now,
                                               streams.uniform(h, who, np.uint64(0)))
        on = np.flatnonzero(online)
        total = np.zeros(len(SUMS))
        if len(on):
            at = live[on] + lo
            g = SimpleNamespace(
                annoyance=f.annoyance[on], balance=f.balance[on], recent=f.recent[on],
                activity=f.activity[on], reads=log_values[reads[at]],
                crowd=log_values[crowd[at]], tolerance=log_values[tolerance[at]],
                interest=share_values[interest[at]],
                mutual=((flag_live[on] & MUTUAL) > 0).astype(np.float64),
                muted=((flag_live[on] & MUTED) > 0).astype(np.float64),
                age=hour - since[at].astype(np.float64))
            g.fair = (traits_module.seen_per_hour(g.activity, g.reads, g.crowd, other_posts, r)
                      / (1.0 - r.memory_keep))
            with np.errstate(over="ignore"):
                u = [streams.uniform(h, who[on], np.uint64(d))
                     for d in range(1, DRAWS_PER_ONLINE_HOUR + 1)]
            ev = rules_module.spend_online_hour(g, fresh_values, fresh_asks, u, r)
            f.annoyance[on], f.balance[on], f.recent[on] = g.annoyance, g.balance, g.recent
            marks = (np.where(ev.comments > 0, REPLIED, 0) | np.where(g.muted > 0, MUTED, 0)
                     | np.where(ev.unfollows > 0, GONE, 0)).astype(np.uint8)
            flag_live[on] |= marks
            total[:8] = [_in_order(ev.seen_values + ev.seen_asks), _in_order(ev.likes),
                         _in_order(ev.comments), _in_order(ev.shares), _in_order(ev.actions),
                         _in_order(ev.unfollows), _in_order(ev.mutes),
                         _in_order(ev.flooding_part[ev.unfollows > 0])]
        annoyance[lo:hi][live] = f.annoyance
        balance[lo:hi][live] = f.balance
        recent[lo:hi][live] = f.recent
        flags[lo:hi][live] = flag_live
        staying = (flag_live & GONE) == 0
        stored = SimpleNamespace(annoyance=annoyance[lo:hi][live], balance=balance[lo:hi][live])
        total[8] = _in_order(stored.annoyance[staying])
        total[9] = _in_order(stored.balance[staying])
        total[10] = np.sum(staying)
        sums[b] = total


def _in_order(x) -> float:
    """The sum added one by one in index order, as the compiled loop adds (numpy's own sum
    pairs terms up and can differ in the last digit)."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.cumsum(x)[-1]) if len(x) else 0.0


# --- the engine ------------------------------------------------------------------------------

CHUNK = 1 << 20  # followers drawn at a time when the audience is built (bounds the temporaries)


class FollowerRef:
    """One follower of the array engine as the account sees them when it replies: the rules'
    ``acknowledge`` reads and writes these attributes."""

    __slots__ = ("model", "i")

    def __init__(self, model: VectorAudience, i: int) -> None:
        self.model, self.i = model, i

    @property
    def gone(self) -> bool:
        return bool(self.model.flags[self.i] & GONE)

    @property
    def balance(self) -> float:
        return float(self.model.balance[self.i])

    @balance.setter
    def balance(self, value: float) -> None:
        self.model.balance[self.i] = value

    @property
    def acknowledged(self) -> int:
        return int(bool(self.model.flags[self.i] & ACKNOWLEDGED))

    @acknowledged.setter
    def acknowledged(self, value: int) -> None:
        if value:
            self.model.flags[self.i] |= ACKNOWLEDGED


class VectorAudience(Audience):
    """The array engine: the shared account and hour of :class:`sim.model.Audience`, with the
    followers as columns."""

    engine = "vector"

    def populate(self, audience) -> None:
        size = audience.size
        self.n = 0  # followers ever added (gone ones keep their place)
        self.gone = 0
        self._allocate(capacity_for(size, self.cfg.days, self.growth))
        self.key = streams.run_key(self.cfg.seed, FOLLOWERS_PURPOSE)
        self.compiled = numba is not None
        if self.compiled:  # threads=0: all of numba's; more than it has: as many as it has
            numba.set_num_threads(min(self.cfg.threads or numba.config.NUMBA_NUM_THREADS,
                                      numba.config.NUMBA_NUM_THREADS))
        self.hour_kernel = compiled_live_hour if self.compiled else live_hour_numpy
        self.r = rules_tuple(self.rules) if self.compiled else self.rules
        self.scratch = np.zeros(1, dtype=SCRATCH)
        self.sums = np.zeros((1, len(SUMS)))
        self._state_sums = (0.0, 0.0, 0.0)  # annoyance, balance, followers who log in
        self._joined = 0  # newcomers since the last hour (all log in; their state is zero)
        active_share = 1.0 - audience.inactive_share
        for c, start in enumerate(range(0, size, CHUNK)):
            rng = self._stream("audience", c)  # a stream per chunk of followers
            m = min(CHUNK, size - start)
            traits = draw_traits(audience, self.rules, rng, m, active_share=active_share)
            state = settled_state(traits, audience, self.rules, rng)
            self.add_followers(traits, state, since=-state.pop("age"))

    def _allocate(self, capacity: int) -> None:
        old = {k: getattr(self, k) for k in (*TRAIT_COLUMNS, *STATE_COLUMNS)} if self.n else {}
        for name in TRAIT_COLUMNS:
            setattr(self, name, np.zeros(capacity, dtype=np.uint16))
        for name, dtype in STATE_COLUMNS.items():
            setattr(self, name, np.zeros(capacity, dtype=dtype))
        for name, column in old.items():
            getattr(self, name)[:self.n] = column[:self.n]
        self.capacity = capacity

    @property
    def mean_annoyance(self) -> float:
        return self._mean(0)

    @property
    def mean_balance(self) -> float:
        return self._mean(1)

    def _mean(self, which: int) -> float:
        """Over followers who log in and still follow, newcomers of the hour included (their
        state is zero, so they add to the count only)."""
        followers = self._state_sums[2] + self._joined
        return float(self._state_sums[which] / followers) if followers else 0.0

    def add_followers(self, traits: dict, state: dict, since: np.ndarray) -> None:
        m = len(since)
        if self.hour >= 0:
            self._joined += int(np.count_nonzero(traits["activity"] > 0))
        if self.n + m > self.capacity:
            self._allocate(int((self.n + m) * 1.25) + 4096)
        at = slice(self.n, self.n + m)
        self.activity[at] = log_code(traits["activity"])
        self.reads[at] = log_code(traits["reads"])
        self.crowd[at] = log_code(traits["crowd"])
        self.tolerance[at] = log_code(traits["tolerance"])
        self.interest[at] = share_code(traits["interest"])
        self.annoyance[at] = state["annoyance"]
        self.balance[at] = state["balance"]
        self.recent[at] = state["recent"]
        self.since[at] = since
        self.flags[at] = (np.where(traits["mutual"] > 0, MUTUAL, 0)
                          | np.where(state["muted"] > 0, MUTED, 0)
                          | np.where(state["acknowledged"] > 0, ACKNOWLEDGED, 0)).astype(np.uint8)
        self.n += m

    @property
    def follower_count(self) -> int:
        return self.n - self.gone

    def live_hour(self) -> None:
        self._joined = 0
        blocks = (self.n + BLOCK - 1) // BLOCK
        if len(self.scratch) < blocks:
            self.scratch = np.zeros(blocks, dtype=SCRATCH)
            self.sums = np.zeros((blocks, len(SUMS)))
        account = self.account
        self.hour_kernel(self.activity, self.reads, self.crowd, self.tolerance, self.interest,
                         self.annoyance, self.balance, self.recent, self.since, self.flags,
                         self.n, self.hour, float(self.rhythm_now), float(account.fresh_values),
                         float(account.fresh_asks), self.key, self.r,
                         float(self.cfg.audience.attention.other_posts_per_day), LOG_VALUES,
                         SHARE_VALUES, self.scratch, self.sums)
        total = dict(zip(SUMS, self.sums[:blocks].sum(axis=0)))  # fixed blocks: fixed order
        t = self.tally
        t.impressions, t.likes, t.comments = (int(total[k]) for k in ("impressions", "likes",
                                                                      "comments"))
        t.shares, t.actions, t.unfollows, t.mutes = (int(total[k]) for k in (
            "shares", "actions", "unfollows", "mutes"))
        t.flooding = float(total["flooding"])
        self.gone += t.unfollows
        self._state_sums = (total["annoyance"], total["balance"], total["active"])
        if t.comments:
            self._queue_replies()

    def _queue_replies(self) -> None:
        """Followers who replied this hour wait for an answer, in random order within the hour."""
        who = np.flatnonzero(self.flags[:self.n] & REPLIED)
        self.flags[who] &= np.uint8(~REPLIED & 0xFF)
        who = self._stream("replies", self.hour).permutation(who)
        self.account.waiting.extend((self.hour, FollowerRef(self, int(i))) for i in who)

    def ties(self):
        raise NotImplementedError("engine=vector keeps no record of each tie; run the pattern "
                                  "checks with engine=agents")
