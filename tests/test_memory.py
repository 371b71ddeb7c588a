"""The memory check reads the limits a job or container sets (cgroups), not only the host's."""

from __future__ import annotations

import pytest

from sim.config import memory
from sim.config.compose import settings
from sim.errors import SettingError


def cgroup_v2(tmp_path, limit: str, used: int, parent_limit: str = "max"):
    root = tmp_path / "cgroup"
    job = root / "slurm" / "job_1"
    job.mkdir(parents=True)
    (root / "slurm" / "memory.max").write_text(parent_limit + "\n")
    (root / "slurm" / "memory.current").write_text("0\n")
    (job / "memory.max").write_text(limit + "\n")
    (job / "memory.current").write_text(f"{used}\n")
    proc = tmp_path / "proc_cgroup"
    proc.write_text("0::/slurm/job_1\n")
    return root, proc


def test_a_v2_limit_is_what_the_group_has_left(tmp_path):
    root, proc = cgroup_v2(tmp_path, limit=str(4 * 2**30), used=2**30)
    assert memory.cgroup_available(root, proc) == 3 * 2**30


def test_a_parents_tighter_limit_counts(tmp_path):
    root, proc = cgroup_v2(tmp_path, limit="max", used=0, parent_limit=str(2**30))
    assert memory.cgroup_available(root, proc) == 2**30


def test_no_limit_is_no_limit(tmp_path):
    root, proc = cgroup_v2(tmp_path, limit="max", used=10)
    assert memory.cgroup_available(root, proc) == float("inf")
    assert memory.cgroup_available(root, tmp_path / "missing") == float("inf")


def test_a_v1_limit(tmp_path):
    root = tmp_path / "cgroup"
    group = root / "memory" / "job"
    group.mkdir(parents=True)
    (group / "memory.limit_in_bytes").write_text(str(2**30))
    (group / "memory.usage_in_bytes").write_text(str(2**28))
    (root / "memory" / "memory.limit_in_bytes").write_text(str(2**63 - 4096))  # v1's "none"
    proc = tmp_path / "proc_cgroup"
    proc.write_text("12:cpu,cpuacct:/job\n9:memory:/job\n")
    assert memory.cgroup_available(root, proc) == 2**30 - 2**28


def test_an_audience_beyond_the_cgroup_limit_is_refused_with_what_fits(monkeypatch):
    monkeypatch.setattr(memory, "host_available", lambda: 64 * 2**30)
    monkeypatch.setattr(memory, "cgroup_available", lambda: 4 * 2**30)  # a 4 GB SLURM job
    cfg = settings("engine=vector", "audience.size=200000000")
    with pytest.raises(SettingError, match=r"'audience.size'.*at most about [\d,]+ followers"):
        memory.check_fits(cfg)
    monkeypatch.setattr(memory, "cgroup_available", lambda: float("inf"))
    memory.check_fits(cfg)  # the host alone could hold it
