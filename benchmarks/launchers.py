"""Wall time of one sweep under Hydra's basic launcher (one run after another) and under the
joblib launcher (runs on every core), measured in the same session, alternating, and checked to
give identical outcome tables.

The sweep is ``strategy=steady seed=range(0,RUNS) audience.size=SIZE days=DAYS``, run with
``python -m sim -m`` as a user would, so the times include Python start-up and, for joblib,
starting its worker processes. Report the medians and the ratio basic/joblib.

Beside it, the script measures what running in parallel can give on this machine at all: the
same pure-Python loop in one process, then in two at once (throughput ratio). Virtual
machines often sell hyperthreads or capped CPU time as cores, and no launcher can beat that.

Run from the repository root (needs ``pip install '.[joblib]'``)::

    python benchmarks/launchers.py
    python benchmarks/launchers.py --runs 8 --size 5000 --days 10 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sweep(launcher: str, folder: Path, runs: int, size: int, days: int) -> float:
    cmd = [sys.executable, "-m", "sim", "-m", "strategy=steady", f"seed=range(0,{runs})",
           f"audience.size={size}", f"days={days}", f"hydra/launcher={launcher}",
           f"hydra.sweep.dir={folder}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


BURN = "import time\nt=time.perf_counter()\nx=0\nfor i in range(20_000_000): x+=i*i\nprint(time.perf_counter()-t)"


def parallel_capacity() -> float:
    """Throughput of two CPU-bound processes at once relative to one (2.0 = two real cores)."""
    def burn(k: int) -> float:
        procs = [subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True)
                 for _ in range(k)]
        return max(float(p.communicate()[0]) for p in procs)
    one, two = statistics.median(burn(1) for _ in range(3)), statistics.median(burn(2) for _ in range(3))
    return 2 * one / two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="runs in the sweep")
    parser.add_argument("--size", type=int, default=5000, help="followers per run")
    parser.add_argument("--days", type=int, default=10, help="days per run")
    parser.add_argument("--repeats", type=int, default=3, help="sweeps per launcher")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores; sweep of {args.runs} "
          f"runs, {args.size} followers, {args.days} days; median of {args.repeats}")
    times: dict[str, list[float]] = {"basic": [], "joblib": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            order = ("basic", "joblib") if repeat % 2 == 0 else ("joblib", "basic")
            for launcher in order:
                folder = Path(tmp) / f"{launcher}{repeat}"
                times[launcher].append(sweep(launcher, folder, args.runs, args.size, args.days))
                print(f"  {launcher:6s} repeat {repeat}: {times[launcher][-1]:.1f} s", flush=True)
        tables = {(Path(tmp) / f"{name}{r}" / "outcomes.csv").read_text()
                  for name in times for r in range(args.repeats)}
    basic, joblib = (statistics.median(times[k]) for k in ("basic", "joblib"))
    capacity = parallel_capacity()
    print(f"basic launcher  {basic:6.1f} s\njoblib launcher {joblib:6.1f} s\n"
          f"speed-up basic/joblib = {basic / joblib:.2f}; identical outcome tables: "
          f"{len(tables) == 1}\n"
          f"this machine: two CPU-bound processes do {capacity:.2f}x the work of one")


if __name__ == "__main__":
    main()
