"""Whether the audience fits in memory, checked before anything is allocated.

What a follower costs on each engine comes from the model's declared follower state
(:mod:`sim.model.state`); what the run may use is the smaller of the host's available memory
and the limit of the process's control group (a SLURM job or a container), less headroom.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig

from sim.errors import SettingError
from sim.model.state import BYTES, WORKING, capacity_for, chosen_engine

HEADROOM = 0.85  # share of the available memory a run may plan to use
CGROUP = Path("/sys/fs/cgroup")


def needed_bytes(cfg: DictConfig, engine: str) -> float:
    followers = capacity_for(cfg.audience.size, cfg.days, cfg.audience.fame_per_day)
    return followers * BYTES[engine] + WORKING[engine]


def host_available() -> float:
    """MemAvailable on Linux, else free physical pages (inf where neither is known)."""
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


def cgroup_available(root: Path = CGROUP, proc_cgroup: Path = Path("/proc/self/cgroup")) -> float:
    """What the process's cgroup still allows: memory.max less memory.current (cgroup v2) or
    limit_in_bytes less usage_in_bytes (v1), the tightest of the group and its parents; inf
    when no limit is set or none can be read."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return float("inf")
    best = float("inf")
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: one hierarchy
            files, base = ("memory.max", "memory.current"), root
        elif "memory" in controllers.split(","):
            files, base = ("memory.limit_in_bytes", "memory.usage_in_bytes"), root / "memory"
        else:
            continue
        here = base / path.lstrip("/")
        while True:  # the group and its parents: the tightest limit counts
            best = min(best, _room(here / files[0], here / files[1]))
            if here == base or base not in here.parents:
                break
            here = here.parent
    return best


def _room(limit_file: Path, usage_file: Path) -> float:
    """The limit less what is in use, not counting page cache the kernel can reclaim
    (``inactive_file`` in memory.stat; ``total_inactive_file`` on v1)."""
    try:
        text = limit_file.read_text().strip()
        if text in ("max", "") or int(text) >= 1 << 60:  # v1 writes a huge number for "none"
            return float("inf")
        limit = float(text)
    except (OSError, ValueError):
        return float("inf")
    try:
        used = float(usage_file.read_text().strip())
    except (OSError, ValueError):
        used = 0.0
    try:
        for line in (limit_file.parent / "memory.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key in ("inactive_file", "total_inactive_file"):
                used -= float(value)
                break
    except (OSError, ValueError):
        pass
    return max(limit - max(used, 0.0), 0.0)


def available_bytes() -> float:
    """Memory the run can have: the host's available memory within the cgroup's limit."""
    return min(host_available(), cgroup_available())


def check_fits(cfg: DictConfig) -> None:
    """Refuse, before anything is allocated, an audience the machine cannot hold."""
    engine = chosen_engine(cfg.engine, cfg.audience.size)
    have_all = available_bytes()
    need, have = needed_bytes(cfg, engine), have_all * HEADROOM
    if need <= have:
        return
    room = max(have - WORKING[engine], 0) / BYTES[engine] - 4096  # capacity_for, inverted
    fits = int(max(room, 0) / (1 + 1.5 * (cfg.audience.fame_per_day + 0.005) * cfg.days))
    other = (f" engine=vector needs about {BYTES['vector']} bytes a follower instead of about "
             f"{BYTES['agents']:,}." if engine == "agents" else "")
    raise SettingError(
        f"Setting 'audience.size' = {cfg.audience.size:,} is not allowed on this machine. "
        f"engine={engine} needs about {need / 2**30:.1f} GiB for it, and {have / 2**30:.1f} GiB "
        f"can be used ({have_all / 2**30:.1f} GiB available to this process). Allowed: at most "
        f"about {fits:,} followers with engine={engine}.{other}")
