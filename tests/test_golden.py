"""Golden outputs: the exact outcome row and a digest of the hourly table for fixed seeds on
both engines, checked in, so that any change of behaviour is a visible, deliberate diff.

After a deliberate change of the model, write them anew and commit the diff::

    python tests/test_golden.py --write
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent / "golden"
# (name, overrides): small audiences, a burst that lands inside the run, both engines
CASES = {
    "steady_agents_seed0": ("strategy=steady", "seed=0", "engine=agents"),
    "burst_agents_seed1": ("strategy=burst", "seed=1", "engine=agents", "budget.asks=80"),
    "steady_vector_seed0": ("strategy=steady", "seed=0", "engine=vector"),
    "burst_vector_seed2": ("strategy=burst", "seed=2", "engine=vector", "budget.asks=80"),
    "broadcast_vector_seed1": ("strategy=broadcast", "seed=1", "engine=vector"),
}
COMMON = ("audience.size=800", "days=30")


def digest(ts: pd.DataFrame) -> str:
    """sha256 of the hourly table as CSV (floats at 12 significant digits)."""
    text = io.StringIO()
    ts.to_csv(text, index=False, float_format="%.12g")
    return hashlib.sha256(text.getvalue().encode()).hexdigest()


def produce(overrides: tuple[str, ...]) -> tuple[dict, str]:
    from sim.config.compose import settings  # noqa: PLC0415
    from sim.experiment.run import simulate  # noqa: PLC0415

    result = simulate(settings(*overrides, *COMMON))
    out = result.outcome
    row = out.drop(columns=[c for c in out if c == "version" or c.endswith("_version")])
    row = row.iloc[0].to_dict()
    row = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    return row, digest(result.timeseries)


@pytest.mark.parametrize("name", list(CASES))
def test_golden_output(name):
    expected = json.loads((HERE / f"{name}.json").read_text())
    row, ts_digest = produce(CASES[name])
    assert row == expected["outcome"], f"{name}: the outcome row changed"
    assert ts_digest == expected["timeseries_sha256"], f"{name}: the hourly table changed"


def write() -> None:
    HERE.mkdir(exist_ok=True)
    for name, overrides in CASES.items():
        row, ts_digest = produce(overrides)
        record = {"overrides": [*overrides, *COMMON], "outcome": row,
                  "timeseries_sha256": ts_digest}
        (HERE / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {HERE / name}.json")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: python {Path(__file__).name} --write")
    write()
