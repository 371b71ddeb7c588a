"""Speed and memory of the two engines on the same settings, measured in the same session.

The agent engine runs 1e5 followers; the array engine (``engine=vector``) runs 1e6, 1e7 and
1e8, compiled with numba and, where asked, on plain numpy (``SIM_NUMBA=0``). Each measurement
builds a fresh model in its own process (``strategy=steady``, default audience, seeds 0, 1,
...), runs one untimed step (the first step also loads the compiled code), then times
``--hours`` steps. Reported per size: follower-steps per second (one follower for one hour;
median of ``--repeats`` processes), the ratio to the agent engine measured in this run, and
peak memory per follower (the process's peak resident memory minus what it held before the
audience was built, divided by the audience size).

Run from the repository root::

    python benchmarks/engines.py
    python benchmarks/engines.py --vector-sizes 1000000 10000000 --repeats 3 --numpy
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def resident(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def one(engine: str, size: int, hours: int, seed: int) -> dict:
    """One measurement, in this process."""
    sys.path.insert(0, str(ROOT))
    from sim.config.compose import make_strategy, settings
    from sim.model.engines import build

    cfg = settings(f"engine={engine}", f"audience.size={size}", "strategy=steady", f"seed={seed}")
    before = resident("VmRSS")
    start = time.perf_counter()
    model = build(cfg, make_strategy(cfg))
    built = time.perf_counter() - start
    model.step()  # untimed: the first step (and compiled code loading)
    steps, elapsed = 0, 0.0
    for _ in range(hours):
        followers = model.follower_count
        start = time.perf_counter()
        model.step()
        elapsed += time.perf_counter() - start
        steps += followers
    return {"rate": steps / elapsed, "build_s": built,
            "bytes_per_follower": (resident("VmHWM") - before) / size}


def measure(engine: str, size: int, hours: int, repeats: int, numpy: bool = False) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({"SIM_NUMBA": "0"} if numpy else {})}
    results = []
    for seed in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--one", engine, str(size), str(hours),
                              str(seed)], env=env, check=True, capture_output=True, text=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent-size", type=int, default=100_000)
    parser.add_argument("--vector-sizes", type=int, nargs="+",
                        default=[1_000_000, 10_000_000, 100_000_000])
    parser.add_argument("--hours", type=int, default=6, help="timed steps per process")
    parser.add_argument("--repeats", type=int, default=3, help="processes per size (seeds)")
    parser.add_argument("--numpy", action="store_true", help="also time the numpy path")
    parser.add_argument("--one", nargs=4, metavar=("ENGINE", "SIZE", "HOURS", "SEED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        engine, size, hours, seed = args.one
        print(json.dumps(one(engine, int(size), int(hours), int(seed))))
        return

    numba = importlib.util.find_spec("numba") and importlib.import_module("numba")

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs; python "
          f"{platform.python_version()}, numba {numba.__version__ if numba else 'not installed'}")
    print(f"{args.hours} timed hours after 1 untimed, median of {args.repeats} processes\n")
    header = (f"{'engine':<14} {'followers':>11} {'follower-steps/s':>17} {'x agents':>9} "
              f"{'bytes/follower':>15} {'build s':>8}")
    print(header + "\n" + "-" * len(header))
    runs = [("agents", args.agent_size, False)]
    runs += [("vector", n, False) for n in args.vector_sizes]
    if args.numpy:
        runs += [("vector", n, True) for n in args.vector_sizes if n <= 10_000_000]
    agents = None
    for engine, size, numpy in runs:
        results = measure(engine, size, args.hours, args.repeats, numpy)
        rate = statistics.median(r["rate"] for r in results)
        agents = agents or rate
        memory = statistics.median(r["bytes_per_follower"] for r in results)
        built = statistics.median(r["build_s"] for r in results)
        name = engine + (" (numpy)" if numpy else "")
        print(f"{name:<14} {size:>11,} {rate:>17.3g} {rate / agents:>9.0f} {memory:>15.0f} "
              f"{built:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
