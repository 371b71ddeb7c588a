"""sim works installed from a wheel (not editable), away from the source tree."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_package_finds_its_configs_and_runs(tmp_path):
    wheels = tmp_path / "wheels"
    wheel_cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels)]
    build = subprocess.run([*wheel_cmd, str(ROOT)], capture_output=True, text=True, timeout=600)
    if build.returncode != 0:  # no index to fetch the build backend: use the installed one
        build = subprocess.run([*wheel_cmd, "--no-build-isolation", str(ROOT)],
                               capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("sim-*.whl"))
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                              "--no-deps", "--force-reinstall", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=600)
    if install.returncode != 0:  # pip older than 22.3 has no --python: use the target's own
        install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q",
                                  str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import sim; print(sim.__file__)"], cwd=work,
                           capture_output=True, text=True)
    assert str(env_dir) in where.stdout, where.stdout + where.stderr
    out = work / "run"
    p = subprocess.run([str(env_dir / "bin" / "sim"), "strategy=steady", "audience.size=100",
                        "days=2", f"hydra.run.dir={out}"], cwd=work, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert pd.read_csv(out / "outcome.csv").followers_start.iloc[0] == 100
    shipped = subprocess.run([str(python), "-c", "from sim.config import EXPERIMENTS_DIR as d; "
                              "print(d, sorted(p.stem for p in d.glob('*.yaml')))"],
                             cwd=work, capture_output=True, text=True)
    assert str(env_dir) in shipped.stdout and "steady_vs_burst" in shipped.stdout, shipped.stderr
