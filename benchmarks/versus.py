"""Both engines at this checkout against another commit of sim, measured in the same session.

A restructuring must not slow the model down; a machine's speed drifts, so absolute times
from different sessions cannot show that. This script checks the other commit out into a
temporary git worktree and times the same runs at both, alternating base and head, each
measurement in a fresh process (one untimed step first, which also loads numba's compiled
code). It reports the median follower-steps per second of each and the ratio head / base::

    python benchmarks/versus.py golden-base
    python benchmarks/versus.py HEAD~3 --agents 20000 --vector 2000000 --hours 24 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One measurement in a fresh process; works with the layout before and after the floors.
MEASURE = r"""
import json, sys, time
engine, size, hours = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
overrides = [f"engine={engine}", f"audience.size={size}", "strategy=steady", "seed=0"]
try:
    from sim.config.compose import settings, make_strategy
    from sim.model.engines import build
    cfg = settings(*overrides)
    model = build(cfg, make_strategy(cfg))
except ImportError:
    from sim.config import settings
    from sim.engines import build
    cfg = settings(*overrides)
    model = build(cfg)
model.step()
start = time.perf_counter()
for _ in range(hours):
    model.step()
seconds = time.perf_counter() - start
print(json.dumps({"rate": size * hours / seconds, "seconds": seconds}))
"""


def measure(root: Path, engine: str, size: int, hours: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", MEASURE, engine, str(size), str(hours)],
                         cwd=root, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["rate"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("::")[0].strip())
    parser.add_argument("base", help="the commit to compare with (a tag, a hash, HEAD~1)")
    parser.add_argument("--agents", type=int, default=20_000, help="followers, engine=agents")
    parser.add_argument("--vector", type=int, default=2_000_000, help="followers, engine=vector")
    parser.add_argument("--hours", type=int, default=24, help="timed hours per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="processes per side and engine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sim-base-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            rows = []
            for engine, size in (("agents", args.agents), ("vector", args.vector)):
                rates = {"base": [], "head": []}
                measure(base, engine, size, 1)  # compile and cache numba's code on each side
                measure(ROOT, engine, size, 1)
                for _ in range(args.repeats):
                    rates["base"].append(measure(base, engine, size, args.hours))
                    rates["head"].append(measure(ROOT, engine, size, args.hours))
                b, h = (statistics.median(rates[k]) for k in ("base", "head"))
                rows.append((engine, size, b, h, h / b))
                print(f"{engine:7s} {size:>10,} followers: base {b:.3g}, head {h:.3g} "
                      f"follower-steps/s; head / base = {h / b:.3f}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                           capture_output=True)
    print(f"\nmedians of {args.repeats} processes each, {args.hours} hours timed, "
          f"base {args.base}, alternating base and head in one session")


if __name__ == "__main__":
    main()
