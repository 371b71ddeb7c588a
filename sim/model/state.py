"""The follower, declared once: every trait and state variable, how it is stored by the array
engine, how it starts, and whether its mean is reported each hour.

The agent engine gives each Mesa agent these attributes; the array engine derives its columns,
its scratch record, the code that loads and stores a follower and its bytes per follower from
this table. Adding a state variable is one line here plus the rule that uses it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Variable(NamedTuple):
    """One thing a follower has."""

    name: str
    kind: str  # "trait" (fixed when the follower is drawn) or "state" (changes by the rules)
    storage: str  # array engine: "log16" / "share16" (16-bit codes), "float32", "flag" (a bit)
    start: str  # state at the start: "settled" (left by the account's history) or "zero"
    summed: bool = False  # its mean over followers who log in is reported every hour
    doc: str = ""


FOLLOWER: tuple[Variable, ...] = (
    Variable("activity", "trait", "log16", "", doc="chance of being online in an average hour"),
    Variable("reads", "trait", "log16", "", doc="posts read per online hour (attention budget)"),
    Variable("crowd", "trait", "log16", "", doc="fresh posts of the other followees in the feed"),
    Variable("tolerance", "trait", "log16", "",
             doc="posts tolerated in a session, in what an average followee shows"),
    Variable("interest", "trait", "share16", "", doc="interest in the account's posts, 0..1"),
    Variable("fickleness", "trait", "log16", "",
             doc="how readily this person unfollows anyone, relative to the average (mean 1)"),
    Variable("mutual", "trait", "flag", "", doc="the account follows back"),
    Variable("annoyance", "state", "float32", "zero", summed=True,
             doc="grievance at being flooded"),
    Variable("balance", "state", "float32", "settled", summed=True,
             doc="reciprocity: value and replies received less asks seen"),
    Variable("recent", "state", "float32", "settled", doc="memory of the account's recent posts"),
    Variable("muted", "state", "flag", "zero", doc="sees none of the account's posts"),
    Variable("acknowledged", "state", "flag", "zero", doc="has had a reply from the account"),
)
# Derived, not stored: ``fair`` (an average followee's share, from activity, reads and crowd)
# and ``age`` (hours since ``since``, the hour the tie began, stored as float32).

SUMMED = tuple(v.name for v in FOLLOWER if v.summed)
FLAGS = tuple(v.name for v in FOLLOWER if v.storage == "flag")
ENGINE_FLAGS = ("gone", "replied")  # the array engine's own marks: left; replied this hour

# The array engine's columns: one per variable that is not a flag, in declaration order, then
# the engine's own (the hour the tie began, the hour it ended (NaN while it lasts: the record
# of each tie that ``ties()`` reads), and one byte holding every flag).
STORAGE = {"log16": np.uint16, "share16": np.uint16, "float32": np.float32}
COLUMNS = {**{v.name: STORAGE[v.storage] for v in FOLLOWER if v.storage != "flag"},
           "since": np.float32, "left": np.float32, "flags": np.uint8}

if len(FLAGS) + len(ENGINE_FLAGS) > 8:
    raise ValueError("the array engine packs flags into one byte: at most 8")
if any(v.kind == "state" and v.storage not in ("float32", "flag") for v in FOLLOWER):
    raise ValueError("state is stored as float32 or a flag (16-bit codes are for traits)")

BYTES = {  # per follower
    "agents": 1200,  # a Mesa agent, measured with tracemalloc
    "vector": sum(np.dtype(t).itemsize for t in COLUMNS.values()),
}
WORKING = {"agents": 50e6, "vector": 400e6}  # bytes for temporaries while building, and Python
AUTO_VECTOR_FROM = 50_000  # engine=auto takes the arrays from this many followers


def chosen_engine(engine: str, size: int) -> str:
    """The engine that will run: an explicit choice wins; ``auto`` goes by audience size (the
    agents keep a record of every tie, worth having for small audiences)."""
    if engine != "auto":
        return engine
    return "vector" if size >= AUTO_VECTOR_FROM else "agents"


def capacity_for(size: int, days: int, fame_per_day: float) -> int:
    """Room for the audience and the newcomers a run can bring (more is added if needed):
    fame's arrivals and, for what the account earns, up to 0.5 % a day."""
    expected = size * (fame_per_day + 0.005) * days
    return int(size + 1.5 * expected + 4096)


def zero_state(n: int) -> dict[str, np.ndarray]:
    """The state of ``n`` new ties: every state variable at zero."""
    return {v.name: np.zeros(n, dtype=np.int32 if v.storage == "flag" else np.float64)
            for v in FOLLOWER if v.kind == "state"}
