"""sim's version, from the installed package's metadata (one place: pyproject.toml), and the
versions of what a run's results depend on, recorded with every output."""

from __future__ import annotations

import platform
from importlib import metadata


def version(package: str = "sim") -> str:
    """The installed version of ``package`` ("not installed" if it is not)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


__version__ = version()

RECORDED = ("sim", "mesa", "numpy", "numba", "pandas")


def versions() -> dict[str, str]:
    """The versions a run's results depend on: sim, mesa, numpy, numba, pandas and Python."""
    return {**{name: version(name) for name in RECORDED}, "python": platform.python_version()}
