"""Shared fixtures: composing settings like the command line does, and small fast runs."""

from __future__ import annotations

import functools

import pytest

from sim.config.compose import settings
from sim.experiment.run import Result, simulate


@functools.lru_cache(maxsize=64)
def _run(overrides: tuple[str, ...]) -> Result:
    return simulate(settings(*overrides))


@pytest.fixture
def run():
    """run("strategy=burst", "audience.size=500") -> Result; identical calls are cached."""
    def _go(*overrides: str) -> Result:
        return _run(tuple(overrides))
    return _go


@pytest.fixture
def cfg():
    return settings
