"""Ensembles: parameter sets that all reproduce the calibration patterns, for runs with intervals.

An ensemble is a table with one row per member: ``member`` (its sample number in the
calibration that accepted it), one column per parameter, named by the setting's full name
(``behaviour.leaving.flooding``), and, optionally, the pattern statistics it was accepted
with (columns ``P1`` ... ``P15b``; a column whose name has no dot is not a parameter).
``python -m sim.calibrate`` writes it as ``results/calibration/<time>/ensemble.parquet`` and
``ensemble.csv``; one is shipped with the package (``sim/ensembles/default.csv``).

``ensemble=NAME`` on the command line names a shipped ensemble, ``ensemble=FOLDER`` a
calibration's folder, ``ensemble=FILE`` such a table itself. A member's run is the base run
with the member's parameters set; a setting given on the command line wins over the member's
value (it pins that parameter across the ensemble).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.config.checks import check_value, known_settings
from sim.errors import SettingError

ENSEMBLES_DIR = Path(__file__).resolve().parents[1] / "ensembles"  # shipped: sim/ensembles/
FILES = ("ensemble.parquet", "ensemble.csv")  # in a calibration's folder, the first found
MEMBER = "member"


@dataclass(frozen=True)
class Ensemble:
    """An ensemble's members: ``table`` holds ``member`` and the parameter columns."""

    name: str  # as given (ensemble=NAME)
    source: Path  # the file it was read from
    table: pd.DataFrame

    @property
    def keys(self) -> list[str]:
        return parameter_columns(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def members(self, limit: int | None = None) -> list[tuple[int, dict[str, float]]]:
        """(member number, {setting: value}) for the first ``limit`` members (all: None)."""
        rows = self.table if limit is None else self.table.head(limit)
        keys = self.keys
        return [(int(r[MEMBER]), {k: float(r[k]) for k in keys})
                for r in rows.to_dict("records")]


def shipped() -> list[str]:
    """The ensembles shipped with the package, by name."""
    return sorted(p.stem for p in ENSEMBLES_DIR.glob("*.csv"))


def parameter_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if "." in str(c)]


def locate(spec: str) -> Path:
    """The file an ``ensemble=`` value names, or a :class:`SettingError` in one paragraph."""
    spec = str(spec).strip()
    if spec and "/" not in spec and "\\" not in spec and not spec.endswith((".csv", ".parquet")):
        named = ENSEMBLES_DIR / f"{spec}.csv"
        if named.is_file():
            return named
    path = Path(spec).expanduser()
    if path.is_dir():
        for name in FILES:
            if (path / name).is_file():
                return path / name
        raise SettingError(
            f"Setting 'ensemble' = '{spec}' is a folder without an ensemble: it holds neither "
            f"{' nor '.join(FILES)}. Give the folder of a calibration (python -m sim.calibrate "
            f"writes results/calibration/<time>/ensemble.parquet once a sample is accepted), "
            f"or a shipped ensemble: {_shipped_text()}.")
    if path.is_file() and path.suffix in (".csv", ".parquet"):
        return path
    raise SettingError(
        f"Setting 'ensemble' = '{spec}' names no ensemble: there is no such folder or file, "
        f"and no ensemble shipped under that name. Allowed: a shipped ensemble "
        f"({_shipped_text()}), the folder of a calibration made with python -m sim.calibrate "
        f"(e.g. ensemble=results/calibration/<time>), or its ensemble.csv or ensemble.parquet; "
        f"or leave the setting out (ensemble=null) for a single parameter set.")


def _shipped_text() -> str:
    names = shipped()
    return ", ".join(f"ensemble={n}" for n in names) if names else "none is installed"


def load(spec: str) -> Ensemble:
    """The ensemble ``spec`` names (see :func:`locate`), its parameters checked against the
    settings; a :class:`SettingError` in one paragraph if it cannot be used."""
    path = locate(spec)
    try:
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's to replace
        raise SettingError(f"Setting 'ensemble' = '{spec}': the file {path} cannot be read "
                           f"({type(e).__name__}: {' '.join(str(e).split())}). Give an ensemble "
                           f"written by python -m sim.calibrate.") from None
    keys = parameter_columns(table)
    if MEMBER not in table.columns or not keys:
        raise SettingError(f"Setting 'ensemble' = '{spec}': {path} is not an ensemble; it needs "
                           f"a column '{MEMBER}' and one column per parameter named by its full "
                           f"setting name (e.g. behaviour.leaving.flooding), as python -m "
                           f"sim.calibrate writes it.")
    if table.empty:
        raise SettingError(f"Setting 'ensemble' = '{spec}': {path} holds no members (the "
                           f"calibration accepted no parameter set yet). Continue it with "
                           f"python -m sim.calibrate --resume FOLDER, or use a shipped "
                           f"ensemble ({_shipped_text()}).")
    known = set(known_settings())
    for key in keys:
        if key not in known:
            raise SettingError(f"Setting 'ensemble' = '{spec}': the column '{key}' of {path} is "
                               f"not a setting. An ensemble's parameter columns are named by "
                               f"full setting names, as on the command line.")
        values = pd.to_numeric(table[key], errors="coerce")
        if values.isna().any():
            raise SettingError(f"Setting 'ensemble' = '{spec}': the column '{key}' of {path} "
                               f"has a value that is not a number in member "
                               f"{table[MEMBER][values.isna()].iloc[0]}.")
        for v in (values.min(), values.max()):
            try:
                check_value(key, float(v))
            except SettingError as error:
                raise SettingError(f"Setting 'ensemble' = '{spec}': {path} sets '{key}' to "
                                   f"{v}, which is not allowed. {error}") from None
    numbers = pd.to_numeric(table[MEMBER], errors="coerce")
    if numbers.isna().any() or (numbers % 1 != 0).any():
        raise SettingError(f"Setting 'ensemble' = '{spec}': the column '{MEMBER}' of {path} "
                           f"must hold whole numbers (each member's sample number); it holds "
                           f"{table[MEMBER][numbers.isna() | (numbers % 1 != 0)].iloc[0]!r}.")
    table = table.assign(**{MEMBER: numbers.astype(int)})
    if table[MEMBER].duplicated().any():
        raise SettingError(f"Setting 'ensemble' = '{spec}': {path} lists member "
                           f"{table[MEMBER][table[MEMBER].duplicated()].iloc[0]} twice.")
    table = table[[MEMBER, *keys]].astype({k: float for k in keys}).reset_index(drop=True)
    return Ensemble(str(spec), path, table)


def check_ensemble(cfg) -> None:
    """Whether the run's ``ensemble`` setting (if any) names a usable ensemble."""
    spec = cfg.get("ensemble") if hasattr(cfg, "get") else None
    if spec is not None:
        load(str(spec))
