"""The ranges of the parameters that the patterns do not pin (``conf/uncertainty/*.yaml``).

One file lists, for each such parameter, its full setting name, its low and high ends, the
scale samples are drawn on and the reason for its ends. Sensitivity analysis and the
pattern-filtered calibration sample from it; the ODD shows it. A range is checked against the
configuration: the setting must exist, be a number, and both ends must lie within what the
setting allows (``sim/config/schema.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from sim.config.checks import check_value
from sim.config.compose import settings
from sim.config.schema import CONF_DIR
from sim.errors import SettingError

SCALES = ("linear", "log")


@dataclass(frozen=True)
class Range:
    """One uncertain parameter: ``key`` (a setting's full name) between ``low`` and ``high``."""

    key: str
    low: float
    high: float
    scale: str = "linear"
    why: str = ""

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Values for points ``u`` in [0, 1]: evenly on the range, or on its logarithm."""
        u = np.asarray(u, float)
        if self.scale == "log":
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)

    def override(self, value: float) -> str:
        return f"{self.key}={float(value)!r}"


def available() -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / "uncertainty").glob("*.yaml"))


def load(name_or_path: str = "default") -> list[Range]:
    """The ranges of ``conf/uncertainty/NAME.yaml`` (or of a YAML file at a path), checked;
    a :class:`SettingError` in one paragraph names the first bad entry."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = CONF_DIR / "uncertainty" / f"{name_or_path}.yaml"
    if not path.is_file():
        raise SettingError(f"No parameter ranges named '{name_or_path}': there is no file "
                           f"{path}. Allowed: {', '.join(available())}, or the path of a YAML "
                           f"file written like conf/uncertainty/default.yaml.")
    raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    entries = raw.get("parameters") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SettingError(f"The ranges file {path} lists no parameters: it needs a list "
                           f"'parameters:' of entries {{key, low, high, scale, why}}.")
    defaults = settings()
    ranges, seen = [], set()
    for i, e in enumerate(entries):
        ranges.append(_checked(e, i, path, defaults))
        if ranges[-1].key in seen:
            raise SettingError(f"The ranges file {path} lists '{ranges[-1].key}' twice; "
                               f"give each parameter one range.")
        seen.add(ranges[-1].key)
    return ranges


def _checked(e: object, i: int, path: Path, defaults) -> Range:
    where = f"Entry {i + 1} of {path}"
    if not isinstance(e, dict) or not {"key", "low", "high"} <= set(e):
        raise SettingError(f"{where} is {e!r}; each entry needs key, low and high (and "
                           f"optionally scale: linear|log and why).")
    unknown = set(e) - {"key", "low", "high", "scale", "why"}
    if unknown:
        raise SettingError(f"{where} ('{e['key']}') has unknown fields {sorted(unknown)}; "
                           f"allowed: key, low, high, scale, why.")
    key, low, high, scale = str(e["key"]), e["low"], e["high"], e.get("scale", "linear")
    value = OmegaConf.select(defaults, key, default=None)
    if value is None or OmegaConf.is_config(value):
        raise SettingError(f"{where}: '{key}' is not a setting. Ranges name a setting by its "
                           f"full name, as on the command line, e.g. "
                           f"behaviour.annoyance.saturation or audience.tolerance.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingError(f"{where}: '{key}' is {value!r}, not a number; only numeric "
                           f"settings can be given a range.")
    for end, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise SettingError(f"{where}: '{key}' has {end} = {v!r}; it must be a number.")
    if not low < high:
        raise SettingError(f"{where}: '{key}' has low = {low} and high = {high}; a range "
                           f"needs low < high.")
    if scale not in SCALES:
        raise SettingError(f"{where}: '{key}' has scale = {scale!r}; allowed: "
                           f"{', '.join(SCALES)}.")
    if scale == "log" and low <= 0:
        raise SettingError(f"{where}: '{key}' has scale log and low = {low}; a log scale "
                           f"needs low > 0 (or use scale: linear).")
    for v in (low, high):  # within what the setting allows: its own check says so
        try:
            check_value(key, float(v))
        except SettingError as error:
            raise SettingError(f"{where}: the range of '{key}' reaches {v}, which the setting "
                               f"does not allow. {error}") from None
    return Range(key, float(low), float(high), scale, str(e.get("why", "")))
