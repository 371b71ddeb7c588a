"""Throughput of the agent engine: follower-steps per second (one follower for one hour).

For each audience size the script builds ``AudienceModel`` as the package does (Hydra
settings, ``strategy=steady``), runs one untimed warm-up step, then times ``--hours`` steps.
Each measurement is repeated on fresh models with different seeds and the median is reported.

Beside it, in the same run and timed the same way, it measures a bare Mesa loop: N plain
``mesa.Agent`` objects stepped with ``shuffle_do("step")``, each doing a comparable update of
about 25 operations with a few random draws. Shared machines are noisy, so absolute numbers
move from run to run; the ratio sim/bare measured in one run is what to compare.
Goal: at least 2e5 follower-steps/s at 1e5 followers.

Run from the repository root::

    python benchmarks/agent_engine.py
    python benchmarks/agent_engine.py --sizes 10000 --hours 12 --repeats 2 --csv bench.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import mesa

try:
    import sim  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.config.compose import settings
from sim.model.agent_engine import AudienceModel

SIM = "sim agents"
BARE = "bare Mesa loop"


class BareAgent(mesa.Agent):
    """A follower-like agent: decay three floats, maybe go online, then a small update."""

    def __init__(self, model: mesa.Model) -> None:
        super().__init__(model)
        self.annoyance = 0.5
        self.balance = 1.0
        self.recent = 2.0
        self.activity = 0.15
        self.interest = 0.3
        self.seen = 0
        self.likes = 0

    def step(self) -> None:
        self.annoyance *= 0.97
        self.balance *= 0.99
        self.recent *= 0.95
        rand = self.random.random
        if rand() >= self.activity:
            return
        self.recent += 1.0
        seen = rand() < 0.8
        self.seen += seen
        self.annoyance += 0.1 * max(self.recent / 3.0 - 1.0, 0.0)
        if seen and rand() < self.interest:
            self.likes += 1
            self.balance += 0.5


class BareModel(mesa.Model):
    def __init__(self, n: int, seed: int) -> None:
        super().__init__(rng=seed)
        for _ in range(n):
            BareAgent(self)

    @property
    def follower_count(self) -> int:
        return len(self.agents)

    def step(self) -> None:
        self.agents.shuffle_do("step")


def build_sim(size: int, seed: int) -> AudienceModel:
    return AudienceModel(settings(f"audience.size={size}", "strategy=steady", f"seed={seed}"))


def stepped(model: mesa.Model) -> int:
    """Agents whose step runs each hour (the sim steps only followers who ever log in)."""
    return len(model.active) if hasattr(model, "active") else model.follower_count


def rate(model: mesa.Model, hours: int) -> tuple[float, float]:
    """(follower-steps, agent-steps) per second over ``hours`` timed steps, after one untimed
    warm-up step. A follower-step is one follower for one hour, inactive ones included."""
    model.step()
    follower_steps = agent_steps = 0
    elapsed = 0.0
    for _ in range(hours):
        follower_steps += model.follower_count
        agent_steps += stepped(model)
        start = time.perf_counter()
        model.step()
        elapsed += time.perf_counter() - start
    return follower_steps / elapsed, agent_steps / elapsed


def measure(build, size: int, hours: int, repeats: int) -> list[tuple[float, float]]:
    return [rate(build(size, seed), hours) for seed in range(repeats)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--hours", type=int, default=48, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=3, help="fresh models, seeds 0..n-1")
    parser.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    args = parser.parse_args(argv)

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    print(f"python {platform.python_version()}, mesa {mesa.__version__}")
    print(f"command: python {shlex.join(sys.argv)}")
    print(f"{args.hours} timed hours after 1 warm-up, median of {args.repeats} repeats\n")

    rows = []
    header = (f"{'size':>8}  {'engine':<15} {'median/s':>10} {'min/s':>10} {'max/s':>10}"
              f" {'agent-steps/s':>14}")
    print("follower-steps/s (one follower for one hour); agent-steps/s counts only the agents")
    print("whose step runs (the sim skips followers who never log in)\n")
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        medians = {}
        for engine, build in ((SIM, build_sim), (BARE, BareModel)):
            results = measure(build, size, args.hours, args.repeats)
            rates = [r[0] for r in results]
            agent_rate = statistics.median(r[1] for r in results)
            medians[engine] = statistics.median(rates)
            rows.append({"size": size, "engine": engine, "median": round(medians[engine]),
                         "min": round(min(rates)), "max": round(max(rates)),
                         "agent_steps_median": round(agent_rate)})
            print(f"{size:>8}  {engine:<15} {medians[engine]:>10.3g} "
                  f"{min(rates):>10.3g} {max(rates):>10.3g} {agent_rate:>14.3g}", flush=True)
        ratio = medians[SIM] / medians[BARE]
        for row in rows[-2:]:
            row["ratio_sim_bare"] = round(ratio, 3)
        print(f"{'':>8}  {'ratio sim/bare':<15} {ratio:>10.2f}")

    if args.csv:
        with args.csv.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"\nwrote {args.csv}")


if __name__ == "__main__":
    main()
