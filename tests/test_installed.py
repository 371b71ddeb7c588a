"""sim works installed from a wheel (not editable), away from the source tree.

The wheel goes into a new, empty venv. Its dependencies come from the environment that runs
the tests: a ``.pth`` file in the new venv adds that environment's site-packages after the
venv's own, so the installed sim is found first. (``system_site_packages=True`` would expose
the base interpreter's packages, not those of the venv the tests run in.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.integration


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    # without the source tree on the path, and without the variables that would put it there
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600,
                          env=env, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A new venv with sim's wheel installed: its folder."""
    tmp = tmp_path_factory.mktemp("installed")
    wheels = tmp / "wheels"
    wheel_cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels]
    build = run(*wheel_cmd, ROOT)
    if build.returncode != 0:  # no index to fetch the build backend: use the installed one
        build = run(*wheel_cmd, "--no-build-isolation", ROOT)
    assert build.returncode == 0, build.stderr
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    own_site = Path(purelib.stdout.strip())
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (own_site / "zz_test_dependencies.pth").write_text("\n".join(sorted(here)) + "\n")
    wheel = next(wheels.glob("sim-*.whl"))
    install = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                  "--force-reinstall", "-q", wheel)
    if install.returncode != 0:  # pip older than 22.3 has no --python
        install = run(sys.executable, "-m", "pip", "install", "--no-deps", "--force-reinstall",
                      "-q", "--target", own_site, wheel)
    assert install.returncode == 0, install.stderr
    return env_dir


def test_sim_imports_from_the_new_venv_not_the_source_tree(installed, tmp_path):
    python = installed / "bin" / "python"
    where = run(python, "-c", "import sim, hydra; print(sim.__file__); print(hydra.__file__)",
                cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    sim_file, hydra_file = where.stdout.split()
    assert Path(sim_file).is_relative_to(installed), sim_file
    assert not Path(sim_file).is_relative_to(ROOT)
    assert not Path(hydra_file).is_relative_to(installed)  # a dependency, from the test env


def test_the_installed_package_finds_its_configs_and_runs(installed, tmp_path):
    out = tmp_path / "run"
    p = run(installed / "bin" / "sim", "strategy=steady", "audience.size=100", "days=2",
            f"hydra.run.dir={out}", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert pd.read_csv(out / "outcome.csv").followers_start.iloc[0] == 100
    p = run(installed / "bin" / "python", "-m", "sim", "strategy=silent", "audience.size=50",
            "days=1", f"hydra.run.dir={tmp_path / 'module'}", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    shipped = run(installed / "bin" / "python", "-c",
                  "from sim.config.schema import CONF_DIR, EXPERIMENTS_DIR as d; "
                  "print(CONF_DIR); print(d, sorted(p.stem for p in d.glob('*.yaml')))",
                  cwd=tmp_path)
    assert shipped.returncode == 0, shipped.stderr
    assert str(installed) in shipped.stdout and "steady_vs_burst" in shipped.stdout
