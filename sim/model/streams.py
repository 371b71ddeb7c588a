"""Counter-based random numbers: a uniform is a hash of (seed, hour, follower, draw).

A shared sequential generator gives each follower whatever numbers are left when its turn
comes, so the results would depend on the order followers are processed in and on how many
threads share the work. A counter-based stream does not: follower 7's third draw in hour 100
is the same number however the audience is split. The hash is SplitMix64's finaliser
(Steele, Lea and Flood 2014), which passes BigCrush as a counter-based generator.

The functions use only integer arithmetic on ``np.uint64``, so the same code runs on numpy
arrays (many followers at once) and, compiled by numba, on one follower at a time.
"""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
HOUR = np.uint64(0xD6E8FEB86659FD93)
DRAW = np.uint64(0xA0761D6478BD642F)
S30, S27, S31, S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def mix(x):
    """SplitMix64's finaliser: a bijection of 64-bit words that scatters every input bit."""
    x = (x ^ (x >> S30)) * M1
    x = (x ^ (x >> S27)) * M2
    return x ^ (x >> S31)


def run_key(seed: int, purpose: int) -> np.uint64:
    """One key per run and purpose (e.g. 0: followers' hours)."""
    with np.errstate(over="ignore"):
        return mix(mix(np.uint64(seed) + GOLDEN) ^ (np.uint64(purpose) * GOLDEN))


def hour_key(key, hour):
    """The key of one hour of a run's stream (computed once an hour, not once a draw)."""
    return mix(key ^ (hour * HOUR))


def uniform(hour_key, follower, draw):
    """A uniform number in [0, 1) for this follower's ``draw``-th chance in the hour."""
    return (mix(hour_key + follower * GOLDEN + draw * DRAW) >> S11) * TO_UNIT
