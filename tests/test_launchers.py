"""Launchers: the same sweep on more cores (joblib), in separate jobs (submitit) or on Ray gives
the same rows, because every run's randomness comes from its own seed."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ["strategy=steady,broadcast", "seed=3", "audience.size=500", "days=2"]  # two runs


def has_module(name: str) -> bool:
    """Whether ``name`` can be imported; False also when a parent package is missing (where
    find_spec would raise)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def needs(plugin: str, extra: str):
    return pytest.mark.skipif(not has_module(f"hydra_plugins.{plugin}"),
                              reason=f"the launcher is its own extra: pip install 'sim[{extra}]'")


@pytest.fixture(scope="module")
def basic(tmp_path_factory, sim_cli) -> str:
    """The sweep's table from Hydra's basic launcher, one run after another (in this process)."""
    sweep = tmp_path_factory.mktemp("basic")
    p = sim_cli("-m", *SWEEP, f"hydra.sweep.dir={sweep}")
    assert p.returncode == 0, p.stderr
    return (sweep / "outcomes.csv").read_text()


def spans(sweep: Path) -> list[tuple[float, float]]:
    """Each run's (start, end): Hydra writes .hydra/ as a run starts; outcome.csv comes last."""
    return [((f / ".hydra" / "config.yaml").stat().st_mtime, (f / "outcome.csv").stat().st_mtime)
            for f in sweep.iterdir() if f.name.isdigit()]


@pytest.mark.integration
@needs("hydra_joblib_launcher", "joblib")
def test_joblib_runs_the_sweep_on_several_cores_with_identical_rows(basic, tmp_path,
                                                                    sim_process):
    p = sim_process("-m", *SWEEP, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                    f"hydra.sweep.dir={tmp_path}")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "outcomes.csv").read_text() == basic
    if (os.cpu_count() or 1) >= 2:  # runs overlap in time: that is what makes it faster
        runs = spans(tmp_path)
        assert any(a0 < b1 and b0 < a1 for i, (a0, a1) in enumerate(runs)
                   for (b0, b1) in runs[i + 1:])


@pytest.mark.integration
@needs("hydra_submitit_launcher", "submitit")
def test_submitit_local_gives_identical_rows(basic, tmp_path, sim_process):
    p = sim_process("-m", *SWEEP, "hydra/launcher=submitit_local",
                    "hydra.launcher.timeout_min=10", f"hydra.sweep.dir={tmp_path}")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "outcomes.csv").read_text() == basic


@pytest.mark.integration
@needs("hydra_ray_launcher", "ray")
def test_a_local_ray_gives_identical_rows(basic, tmp_path, sim_process):
    ray_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must be short
    p = sim_process("-m", *SWEEP, "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2",
                    "+hydra.launcher.ray.init.include_dashboard=false",
                    f"+hydra.launcher.ray.init._temp_dir={ray_dir}",
                    f"hydra.sweep.dir={tmp_path / 'sweep'}",
                    env={"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"})
    shutil.rmtree(ray_dir, ignore_errors=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "sweep" / "outcomes.csv").read_text() == basic


@needs("hydra_submitit_launcher", "submitit")
def test_the_shipped_slurm_config_selects_submitits_slurm_launcher():
    from sim.config.compose import register_all as register
    from sim.config.schema import CONF_DIR

    register()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=slurm",
                                           "hydra.launcher.partition=short"],
                      return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.partition == "short" and launcher.cpus_per_task == 1
    assert launcher.timeout_min == 60 and launcher.array_parallelism == 100


@pytest.mark.slow
@pytest.mark.integration
@needs("hydra_joblib_launcher", "joblib")
def test_joblib_is_faster_than_one_run_after_another(tmp_path, sim_process):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from launchers import parallel_capacity

    capacity = parallel_capacity()
    if capacity < 1.5:
        pytest.skip(f"two processes do only {capacity:.2f}x the work of one on this machine")
    sweep = ["strategy=steady", "seed=range(0,6)", "audience.size=6000", "days=4"]
    times = {}
    for launcher in ("basic", "joblib"):
        start = time.perf_counter()
        p = sim_process("-m", *sweep, f"hydra/launcher={launcher}",
                        f"hydra.sweep.dir={tmp_path / launcher}")
        times[launcher] = time.perf_counter() - start
        assert p.returncode == 0, p.stderr
    assert times["basic"] / times["joblib"] > 1 + 0.4 * (capacity - 1), (times, capacity)
