"""Which engine runs the followers, and whether the audience fits in memory.

``engine=agents`` makes one Mesa agent per follower (about 1 KB each, a few microseconds per
hour); ``engine=vector`` keeps followers as columns (27 bytes each) and runs their hour
compiled. ``engine=auto`` (the default) takes the agents for small audiences, where their
per-follower records (``ties()``) are worth having, and the arrays above
:data:`AUTO_VECTOR_FROM` followers.
"""

from __future__ import annotations

import os

from omegaconf import DictConfig

from sim.config import SettingError

AUTO_VECTOR_FROM = 50_000
BYTES = {"agents": 1200, "vector": 27}  # per follower, measured (tracemalloc; column sizes)
WORKING = {"agents": 50e6, "vector": 400e6}  # bytes for temporaries while building, and Python
HEADROOM = 0.85  # share of the available memory a run may plan to use


def chosen(cfg: DictConfig) -> str:
    """The engine that will run: an explicit choice wins; ``auto`` goes by audience size."""
    if cfg.engine != "auto":
        return cfg.engine
    return "vector" if cfg.audience.size >= AUTO_VECTOR_FROM else "agents"


def capacity_for(size: int, days: int, growth) -> int:
    """Room for the audience and the newcomers a run can bring (more is added if needed)."""
    expected = size * growth.discovery_per_day * days
    return int(size + 1.5 * expected + 4096)


def needed_bytes(cfg: DictConfig, engine: str) -> float:
    followers = capacity_for(cfg.audience.size, cfg.days, cfg.behaviour.growth)
    return followers * BYTES[engine] + WORKING[engine]


def available_bytes() -> float:
    """Memory the run can have: MemAvailable on Linux, else free physical pages."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def check_fits(cfg: DictConfig) -> None:
    """Refuse, before anything is allocated, an audience the machine cannot hold."""
    engine = chosen(cfg)
    need, have = needed_bytes(cfg, engine), available_bytes() * HEADROOM
    if need <= have:
        return
    room = max(have - WORKING[engine], 0) / BYTES[engine] - 4096  # capacity_for, inverted
    fits = int(max(room, 0) / (1 + 1.5 * cfg.behaviour.growth.discovery_per_day * cfg.days))
    other = (" engine=vector needs about 27 bytes a follower instead of about 1,200."
             if engine == "agents" else "")
    raise SettingError(
        f"Setting 'audience.size' = {cfg.audience.size:,} is not allowed on this machine. "
        f"engine={engine} needs about {need / 2**30:.1f} GiB for it, and {have / 2**30:.1f} GiB "
        f"can be used ({available_bytes() / 2**30:.1f} GiB available). Allowed: at most about "
        f"{fits:,} followers with engine={engine}.{other}")


def build(cfg: DictConfig, strategy=None):
    """The model for these settings, on the engine they choose."""
    if chosen(cfg) == "vector":
        from sim.vector import VectorAudience  # noqa: PLC0415

        return VectorAudience(cfg, strategy)
    from sim.model import AudienceModel  # noqa: PLC0415

    return AudienceModel(cfg, strategy)
