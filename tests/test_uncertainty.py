"""The ranges of the unpinned parameters (conf/uncertainty/*.yaml): read, checked, mapped."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config.compose import settings
from sim.config.uncertainty import Range, load
from sim.errors import SettingError


def test_the_default_ranges_name_real_settings_and_hold_their_defaults():
    ranges = load()
    assert len(ranges) >= 20 and all(r.why for r in ranges)
    cfg = settings()
    for r in ranges:
        assert r.low <= OmegaConf.select(cfg, r.key) <= r.high, r.key


def test_a_range_maps_the_unit_interval_onto_its_ends_on_its_scale():
    lin, log = Range("x", 2.0, 4.0), Range("y", 1.0, 100.0, "log")
    assert lin.from_unit(np.array([0, 0.5, 1])).tolist() == pytest.approx([2, 3, 4])
    assert log.from_unit(np.array([0, 0.5, 1])).tolist() == pytest.approx([1, 10, 100])
    assert log.override(10.0) == "y=10.0"


def write(tmp_path, *entries: str):
    p = tmp_path / "r.yaml"
    p.write_text("parameters:\n" + "".join(f"  - {e}\n" for e in entries))
    return str(p)


@pytest.mark.parametrize("entry, said", [
    ("{key: behaviour.annoyance.nonsense, low: 1, high: 2}", "is not a setting"),
    ("{key: behaviour.annoyance, low: 1, high: 2}", "is not a setting"),
    ("{key: behaviour.annoyance.gain, low: 2, high: 1}", "low < high"),
    ("{key: behaviour.annoyance.gain, low: 1, high: 1}", "low < high"),
    ("{key: behaviour.annoyance.gain, low: 0, high: 1, scale: log}", "low > 0"),
    ("{key: behaviour.annoyance.gain, low: 1, high: 2, scale: cubic}", "linear, log"),
    ("{key: behaviour.leaving.acknowledged_factor, low: 0.5, high: 1.5}", "does not allow"),
    ("{key: behaviour.annoyance.gain, low: one, high: 2}", "must be a number"),
    ("{key: engine, low: 1, high: 2}", "not a number"),
    ("{key: behaviour.annoyance.gain, low: 1, high: 2, width: 3}", "unknown fields"),
])
def test_a_bad_range_is_one_paragraph_naming_the_entry(tmp_path, entry, said):
    with pytest.raises(SettingError) as e:
        load(write(tmp_path, entry))
    assert said in str(e.value) and "Entry 1" in str(e.value) and "\n" not in str(e.value)


def test_a_parameter_listed_twice_or_a_missing_or_empty_file_is_refused(tmp_path):
    twice = "{key: behaviour.annoyance.gain, low: 1, high: 2}"
    with pytest.raises(SettingError, match="twice"):
        load(write(tmp_path, twice, twice))
    with pytest.raises(SettingError, match="no file"):
        load("no_such_ranges")
    empty = tmp_path / "e.yaml"
    empty.write_text("parameters: []\n")
    with pytest.raises(SettingError, match="lists no parameters"):
        load(str(empty))


def test_the_odd_shows_every_range_as_the_file_gives_it():
    from pathlib import Path
    odd = (Path(__file__).resolve().parent.parent / "docs" / "ODD.md").read_text()
    for r in load():
        assert f"| `{r.key}` | {r.low:g} - {r.high:g} | {r.scale} |" in odd, r.key
