"""The worked example of README's "Sweeps" section: run the sweep, compare it, keep the figures.

    python docs/sweep_example.py            # about 5 minutes on two cores

It runs, exactly as a user would,

    python -m sim -m hydra/launcher=joblib strategy=steady,burst budget.asks=5,10,20,40 \
        'seed=range(0,5)' hydra.sweep.dir=<tmp>/asks
    python -m sim.compare <tmp>/asks --out <tmp>/compare

prints the comparison and copies its net-change and followers-over-time figures to
docs/img/sweep_net_change.png and docs/img/sweep_followers.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
SWEEP = ["strategy=steady,burst", "budget.asks=5,10,20,40", "seed=range(0,5)"]


def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "asks", Path(tmp) / "compare"
        subprocess.run([sys.executable, "-m", "sim", "-m", "hydra/launcher=joblib", *SWEEP,
                        f"hydra.sweep.dir={folder}"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "sim.compare", str(folder), "--out", str(out)],
                       cwd=ROOT, env=env, check=True)
        IMG.mkdir(exist_ok=True)
        shutil.copy(out / "net_change_pct.png", IMG / "sweep_net_change.png")
        shutil.copy(out / "followers_over_time.png", IMG / "sweep_followers.png")


if __name__ == "__main__":
    main()
