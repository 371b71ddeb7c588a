"""The array engine (``engine=vector``): followers as columns of numbers, for audiences of
millions.

It runs the rules of :mod:`sim.model.rules` unchanged. With numba, they are compiled and applied
to one follower at a time in a parallel loop. Without numba, they are applied to numpy
arrays, a block of followers at a time. The account, its strategy, its replies and the
newcomers are those of :class:`sim.model.simulation.Audience`, which both engines share.

What a follower costs (33 bytes, ``sim.model.state.BYTES``) follows from the declared follower
(:data:`sim.model.state.FOLLOWER`), from which the columns, the scratch record, the code that
loads and stores a follower and the hour's sums are all derived:

- **traits**, 2 bytes each. Activity, posts read an hour, feed crowding, tolerance and fickleness are
  stored as 16-bit codes on a log scale (relative error below 0.03 %); interest is stored on
  a linear scale. A follower's fair share of the feed is recomputed from these when needed.
- **state**: annoyance, balance and memory of recent posts as 32-bit floats, the hours the tie
  began and ended (the record of each tie, :meth:`VectorAudience.ties`), and one byte of flags
  (follow-back, muted, acknowledged, gone, replied this hour).

Random numbers come from :mod:`sim.model.streams`, keyed by seed, hour, follower and draw. The
sums for each hour are taken over fixed blocks of followers and then added in block order,
so a seed gives the same tables whatever the number of threads.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import re
import string
import sys
import types
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sim.model import rules as rules_module
from sim.model import state as state_module
from sim.model import streams
from sim.model import traits as traits_module
from sim.model.rules import DRAWS_PER_ONLINE_HOUR, Rules
from sim.model.simulation import Audience
from sim.model.state import COLUMNS, ENGINE_FLAGS, FLAGS, FOLLOWER, SUMMED, capacity_for
from sim.model.traits import draw_traits, settled_state

try:  # numba is optional: without it the same rules run on numpy arrays, more slowly
    if os.environ.get("SIM_NUMBA", "1") == "0":
        raise ImportError("disabled by SIM_NUMBA=0")
    import numba
except ImportError:
    numba = None

BLOCK = 1 << 14  # followers per block: the unit of parallel work and of partial sums
FOLLOWERS_PURPOSE = 1  # run_key purpose of the followers' hourly draws

# 16-bit codes: 0 is an exact zero; 1..65535 span LOG_LOW..LOG_HIGH on a log scale
LOG_LOW, LOG_HIGH = np.log(1e-6), np.log(1e6)
LOG_STEP = (LOG_HIGH - LOG_LOW) / 65534.0
LOG_VALUES = np.concatenate([[0.0], np.exp(LOG_LOW + LOG_STEP * np.arange(65535))])
SHARE_VALUES = (np.arange(65536) + 0.5) / 65536.0  # interest, a share in (0, 1)

# --- the follower's layout, from the declaration -----------------------------------------------

BIT = {name: 1 << k for k, name in enumerate((*FLAGS, *ENGINE_FLAGS))}  # bits of ``flags``
GONE, REPLIED = BIT["gone"], BIT["replied"]
DERIVED = ("fair", "age")  # worked out when loaded, never stored
SCRATCH = np.dtype([(name, np.float64) for name in (*(v.name for v in FOLLOWER), *DERIVED)])
# Time passes for every follower who logs in, so the float state is loaded and stored for all
# of them; activity decides who is online; the rest is loaded only for those online.
EVERY_HOUR = tuple(v for v in FOLLOWER if v.kind == "state" and v.storage == "float32")
ONLINE = tuple(v for v in FOLLOWER if v not in EVERY_HOUR and v.name != "activity")
STATE_FLAGS = tuple(v for v in ONLINE if v.kind == "state")  # stored for those online
KEEP = 0xFF & ~sum(BIT[v.name] for v in STATE_FLAGS)  # the other bits, which the rules leave

# the hour's sums, one row per block: the events, the summed state of who stays, their number
EVENTS = ("impressions", "likes", "comments", "shares", "actions", "unfollows", "mutes",
          "flooding")
SUMS = (*EVENTS, *SUMMED, "active")
VARIABLES = {v.name: v for v in FOLLOWER}


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


# The compiled hour, as a template: every follower's hour in a parallel loop over fixed blocks
# of followers, each block writing its own row of ``sums``. numba cannot name a record's
# fields at run time, so the lines that load, store and sum a follower are written out from
# the declaration ($markers), and the module is compiled from a real file (numba caches only
# what it can find on disk).
KERNEL = '''"""Generated by sim.model.array_engine from sim.model.state.FOLLOWER: do not edit."""

import numpy as np

BLOCK = $BLOCK
GONE = $GONE
REPLIED = $REPLIED


def live_hour(
        $columns,
        n, hour, rhythm_now, fresh_values, fresh_asks, key, r, other_posts, log_values,
        share_values, scratch, sums):
    blocks = (n + BLOCK - 1) // BLOCK
    h = _hour_key(key, np.uint64(hour))
    for b in prange(blocks):
        f = scratch[b]
        impressions = likes = comments = shares = actions = 0.0
        unfollows = mutes = flooding = active = 0.0
        $start_sums
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            flag = flags[i]
            code = activity[i]
            if flag & GONE or code == 0:
                continue  # gone, or never logs in
            $load_every_hour
            f.activity = log_values[code]
            _pass_time(f, r)
            if _is_online(f, rhythm_now, _uniform(h, np.uint64(i), np.uint64(0))):
                $load_online
                f.fair = (_seen_per_hour(f.activity, f.reads, f.crowd, other_posts, r)
                          / (1.0 - r.memory_keep))
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
                $store_online
                mutes += ev.mutes
                if ev.unfollows > 0:
                    flag |= GONE
                    left[i] = hour
                    unfollows += 1.0
                    flooding += ev.flooding_part
            $store_every_hour
            flags[i] = flag
            if not flag & GONE:
                $add_sums
                active += 1.0
        $write_sums
'''


def _loaded(v) -> str:
    """The expression for variable ``v`` of follower ``i``, decoded from its column."""
    if v.storage == "flag":
        return f"(1.0 if flag & {BIT[v.name]} else 0.0)"
    table = {"log16": "log_values", "share16": "share_values", "float32": ""}[v.storage]
    return f"{table}[{v.name}[i]]" if table else f"{v.name}[i]"


def _stored(v) -> list[str]:
    """The lines that store ``f.<name>`` of follower ``i`` back (state is float32 or a flag)."""
    if v.storage == "flag":
        return [f"if f.{v.name} > 0:", f"    flag |= {BIT[v.name]}", "else:",
                f"    flag &= {0xFF & ~BIT[v.name]}"]
    return [f"{v.name}[i] = f.{v.name}"]


def kernel_source() -> str:
    """The compiled hour's module, written out from the declaration."""
    code = re.sub(r"#.*", "", KERNEL[KERNEL.index("def "):])
    taken = set(re.findall(r"(?<![.\w$])[A-Za-z_]\w*", code)) - {"activity"}
    if taken & set(VARIABLES):  # a column would be shadowed by one of the hour's own names
        raise ValueError(f"follower variables may not be named {sorted(taken & set(VARIABLES))}")
    summed = [v for v in FOLLOWER if v.summed]
    local = {**{name: name for name in EVENTS}, **{v.name: f"sum_{v.name}" for v in summed},
             "active": "active"}
    blocks = {
        "start_sums": [f"sum_{v.name} = 0.0" for v in summed],
        "load_every_hour": [f"f.{v.name} = {_loaded(v)}" for v in EVERY_HOUR],
        "load_online": [f"f.{v.name} = {_loaded(v)}" for v in ONLINE],
        "store_online": [line for v in STATE_FLAGS for line in _stored(v)],
        "store_every_hour": [line for v in EVERY_HOUR for line in _stored(v)],
        "add_sums": [f"sum_{v.name} += {_loaded(v)}" for v in summed],
        "write_sums": [f"sums[b, {k}] = {local[name]}" for k, name in enumerate(SUMS)],
    }
    lines = []
    for line in KERNEL.splitlines():
        marker = line.strip()
        if marker[1:] in blocks and marker.startswith("$"):
            indent = line[:len(line) - len(line.lstrip())]
            lines += [indent + text for text in blocks[marker[1:]]]
        else:
            lines.append(line)
    return string.Template("\n".join(lines) + "\n").substitute(
        BLOCK=BLOCK, GONE=GONE, REPLIED=REPLIED, columns=", ".join(COLUMNS))


def _cache_key() -> str:
    """A hash of every source the compiled hour is built from (the rules, the declared follower
    and this module with its template): numba only notices when a function's own file
    changes, so an edited rule must not find the old machine code."""
    sources = (rules_module, traits_module, streams, state_module, sys.modules[__name__])
    digest = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in sources))
    return digest.hexdigest()[:16]


def _compile_hour(cache_dir: Path):
    """The hour, compiled from its generated module (written once per cache key)."""
    path = cache_dir / "live_hour.py"
    if not path.exists():  # written whole, then renamed: parallel runs never read half a file
        cache_dir.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".live_hour.{os.getpid()}.py")
        part.write_text(kernel_source())
        os.replace(part, path)
    spec = importlib.util.spec_from_file_location(f"sim_live_hour_{CACHE_KEY}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where numba's cached code finds its globals again
    spec.loader.exec_module(module)
    rules = _compile_rules()
    module.__dict__.update(_pass_time=rules.pass_time, _is_online=rules.is_online,
                           _spend=rules.spend_online_hour, _seen_per_hour=rules.seen_per_hour,
                           _uniform=rules.uniform, _hour_key=rules.hour_key,
                           prange=numba.prange)
    return rules, numba.njit(parallel=True, cache=True, error_model="numpy")(module.live_hour)


if numba is not None:  # the kernel and the rules it calls, compiled once and cached on disk
    CACHE_KEY = _cache_key()
    numba.config.CACHE_DIR = str(Path(numba.config.CACHE_DIR or
                                      Path.home() / ".cache" / "sim-numba") / CACHE_KEY)
    _rules, compiled_live_hour = _compile_hour(Path(numba.config.CACHE_DIR))
else:
    compiled_live_hour = None


# --- the same hour on numpy arrays -------------------------------------------------------------

def _decode(v, columns: dict, at: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """Variable ``v`` of the followers at ``at`` (``flag``: their flags), as float64."""
    if v.storage == "flag":
        return ((flag & BIT[v.name]) > 0).astype(np.float64)
    column = columns[v.name][at]
    if v.storage == "float32":
        return column.astype(np.float64)
    return (LOG_VALUES if v.storage == "log16" else SHARE_VALUES)[column]


def live_hour_numpy(*args):
    """The hour without numba: the rules on a block of followers at once (same blocks, same
    random numbers, same sums). Takes the compiled hour's arguments."""
    columns = dict(zip(COLUMNS, args))
    (n, hour, rhythm_now, fresh_values, fresh_asks, key, r, other_posts, _log_values,
     _share_values, _scratch, sums) = args[len(COLUMNS):]
    flags, activity, since = columns["flags"], columns["activity"], columns["since"]
    with np.errstate(over="ignore"):
        h = streams.hour_key(key, np.uint64(hour))
    for b in range((n + BLOCK - 1) // BLOCK):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        live = np.flatnonzero(((flags[lo:hi] & GONE) == 0) & (activity[lo:hi] > 0)) + lo
        flag_live = flags[live]
        f = SimpleNamespace(**{v.name: _decode(v, columns, live, flag_live)
                               for v in EVERY_HOUR}, activity=LOG_VALUES[activity[live]])
        rules_module.pass_time(f, r)
        who = live.astype(np.uint64)
        with np.errstate(over="ignore"):
            online = rules_module.is_online(f, rhythm_now,
                                               streams.uniform(h, who, np.uint64(0)))
        on = np.flatnonzero(online)
        total = np.zeros(len(SUMS))
        if len(on):
            at, flag_on = live[on], flag_live[on]
            g = SimpleNamespace(**{k: x[on] for k, x in vars(f).items()},
                                **{v.name: _decode(v, columns, at, flag_on) for v in ONLINE})
            g.fair = (traits_module.seen_per_hour(g.activity, g.reads, g.crowd, other_posts, r)
                      / (1.0 - r.memory_keep))
            g.age = hour - since[at].astype(np.float64)
            with np.errstate(over="ignore"):
                u = [streams.uniform(h, who[on], np.uint64(d))
                     for d in range(1, DRAWS_PER_ONLINE_HOUR + 1)]
            ev = rules_module.spend_online_hour(g, fresh_values, fresh_asks, u, r)
            for v in EVERY_HOUR:
                getattr(f, v.name)[on] = getattr(g, v.name)
            marks = np.where(ev.comments > 0, REPLIED, 0) | np.where(ev.unfollows > 0, GONE, 0)
            columns["left"][at[ev.unfollows > 0]] = hour
            for v in STATE_FLAGS:  # as the rules left them
                marks |= np.where(getattr(g, v.name) > 0, BIT[v.name], 0)
            flag_live[on] = (flag_on & KEEP) | marks
            total[:len(EVENTS)] = [
                _in_order(ev.seen_values + ev.seen_asks), _in_order(ev.likes),
                _in_order(ev.comments), _in_order(ev.shares), _in_order(ev.actions),
                _in_order(ev.unfollows), _in_order(ev.mutes),
                _in_order(ev.flooding_part[ev.unfollows > 0])]
        for v in EVERY_HOUR:
            columns[v.name][live] = getattr(f, v.name)
        flags[live] = flag_live
        staying = (flag_live & GONE) == 0
        for k, v in enumerate(v for v in FOLLOWER if v.summed):
            total[len(EVENTS) + k] = _in_order(_decode(v, columns, live, flag_live)[staying])
        total[-1] = np.sum(staying)
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
    ``acknowledge`` reads and writes their declared state."""

    __slots__ = ("model", "i")

    def __init__(self, model: VectorAudience, i: int) -> None:
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "i", i)

    @property
    def gone(self) -> bool:
        return bool(self.model.flags[self.i] & GONE)

    def __getattr__(self, name: str) -> float:
        if name not in VARIABLES:
            raise AttributeError(name)
        m = self.model
        return float(_decode(VARIABLES[name], m.columns, self.i, m.flags[self.i]))

    def __setattr__(self, name: str, value: float) -> None:
        v = VARIABLES.get(name)
        if v is None or (v.kind != "state" and v.storage != "flag"):  # the account sets mutual
            raise AttributeError(f"{name} is not a follower's state")
        m, i = self.model, self.i
        if v.storage == "flag":
            m.flags[i] = m.flags[i] | BIT[name] if value > 0 else m.flags[i] & ~BIT[name] & 0xFF
        else:
            m.columns[name][i] = value


class VectorAudience(Audience):
    """The array engine: the shared account and hour of :class:`sim.model.simulation.Audience`, with the
    followers as columns."""

    engine = "vector"

    def populate(self, audience) -> None:
        size = audience.size
        self.n = 0  # followers ever added (gone ones keep their place)
        self.gone = 0
        self._allocate(capacity_for(size, self.cfg.days, self.cfg.audience.fame_per_day))
        self.key = streams.run_key(self.cfg.seed, FOLLOWERS_PURPOSE)
        self.compiled = numba is not None
        if self.compiled:  # threads=0: all of numba's; more than it has: as many as it has
            numba.set_num_threads(min(self.cfg.threads or numba.config.NUMBA_NUM_THREADS,
                                      numba.config.NUMBA_NUM_THREADS))
        self.hour_kernel = compiled_live_hour if self.compiled else live_hour_numpy
        self.r = rules_tuple(self.rules) if self.compiled else self.rules
        self.scratch = np.zeros(1, dtype=SCRATCH)
        self.sums = np.zeros((1, len(SUMS)))
        self._state_sums = dict.fromkeys(SUMS[len(EVENTS):], 0.0)  # summed state, and over whom
        self._joined = 0  # newcomers since the last hour (all log in; their state is zero)
        active_share = 1.0 - audience.inactive_share
        for c, start in enumerate(range(0, size, CHUNK)):
            rng = self._stream("audience", c)  # a stream per chunk of followers
            m = min(CHUNK, size - start)
            traits = draw_traits(audience, self.rules, rng, m, active_share=active_share)
            state = settled_state(traits, audience, self.rules, rng)
            self.add_followers(traits, state, since=-state.pop("age"))

    def _allocate(self, capacity: int) -> None:
        """The columns (also attributes, ``self.flags``...), with room for ``capacity``."""
        if not hasattr(self, "columns"):
            taken = [c for c in COLUMNS if hasattr(type(self), c) or c in vars(self)]
            if taken:
                raise ValueError(f"follower variables may not be named {taken}")
        old = self.columns if self.n else {}
        self.columns = {name: np.zeros(capacity, dtype=dtype) for name, dtype in COLUMNS.items()}
        for name, column in old.items():
            self.columns[name][:self.n] = column[:self.n]
        vars(self).update(self.columns)
        self.capacity = capacity

    def mean_of(self, name: str) -> float:
        """Over followers who log in and still follow, newcomers of the hour included (their
        state is zero, so they add to the count only)."""
        followers = self._state_sums["active"] + self._joined
        return float(self._state_sums[name] / followers) if followers else 0.0

    def add_followers(self, traits: dict, state: dict, since: np.ndarray) -> None:
        m = len(since)
        if self.hour >= 0:
            self._joined += int(np.count_nonzero(traits["activity"] > 0))
        if self.n + m > self.capacity:
            self._allocate(int((self.n + m) * 1.25) + 4096)
        at = slice(self.n, self.n + m)
        values = {**traits, **state}
        flags = np.zeros(m, dtype=np.uint8)
        for v in FOLLOWER:
            x = values[v.name]
            if v.storage == "flag":
                flags |= np.where(x > 0, BIT[v.name], 0).astype(np.uint8)
            else:
                code = {"log16": log_code, "share16": share_code}.get(v.storage)
                self.columns[v.name][at] = code(x) if code else x
        self.since[at] = since
        self.left[at] = np.nan  # still following
        self.flags[at] = flags
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
        self.hour_kernel(*self.columns.values(), self.n, self.hour, float(self.rhythm_now),
                         float(account.fresh_values), float(account.fresh_asks), self.key,
                         self.r, float(self.cfg.audience.attention.other_posts_per_day),
                         LOG_VALUES, SHARE_VALUES, self.scratch, self.sums)
        total = dict(zip(SUMS, self.sums[:blocks].sum(axis=0)))  # fixed blocks: fixed order
        t = self.tally
        t.impressions, t.likes, t.comments = (int(total[k]) for k in ("impressions", "likes",
                                                                      "comments"))
        t.shares, t.actions, t.unfollows, t.mutes = (int(total[k]) for k in (
            "shares", "actions", "unfollows", "mutes"))
        t.flooding = float(total["flooding"])
        self.gone += t.unfollows
        self._state_sums = {k: total[k] for k in self._state_sums}
        if t.comments:
            self._queue_replies()

    def _queue_replies(self) -> None:
        """Followers who replied this hour wait for an answer, in random order within the hour."""
        who = np.flatnonzero(self.flags[:self.n] & REPLIED)
        self.flags[who] &= np.uint8(~REPLIED & 0xFF)
        who = self._stream("replies", self.hour).permutation(who)
        self.account.waiting.extend((self.hour, FollowerRef(self, int(i))) for i in who)

    def stop_following_back(self, n: int) -> None:
        flags = self.flags[:self.n]
        mutual = np.flatnonzero(((flags & BIT["mutual"]) > 0) & ((flags & GONE) == 0))
        chosen = self._stream("unfollow_backs", self.hour).permutation(mutual)[:n]
        self.flags[chosen] &= np.uint8(~BIT["mutual"] & 0xFF)

    def ties(self) -> pd.DataFrame:
        """Every tie of the run, current and ended, with the agent engine's columns and dtypes
        (:meth:`sim.model.agent_engine.Follower.tie`), so that the pattern checks on ties run
        on audiences large enough for rare events."""
        n, flags = self.n, self.flags[:self.n]

        def flag(name: str) -> np.ndarray:
            return ((flags & BIT[name]) > 0).astype(np.int64)
        return pd.DataFrame({
            "since": self.since[:n].astype(np.float64), "mutual": flag("mutual"),
            "active": self.activity[:n] > 0, "acknowledged": flag("acknowledged"),
            "muted": flag("muted"), "crowd": LOG_VALUES[self.crowd[:n]],
            "fickleness": LOG_VALUES[self.fickleness[:n]],
            "left": self.left[:n].astype(np.float64)})
