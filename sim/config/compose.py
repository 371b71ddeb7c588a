"""Composing settings as the command line does, and making the strategy they name.

``settings("strategy=burst", "seed=3")`` gives the same settings as
``python -m sim strategy=burst seed=3`` (for tests, notebooks, the page and the tournament).
"""

from __future__ import annotations

import inspect
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from sim.config.checks import strategy_class, strategy_values
from sim.config.schema import CONF_DIR, register, strategy_names
from sim.errors import SettingError
from sim.model.strategies import BUILT_IN, Strategy, built_in_name


def sweep_name(task_overrides) -> str:
    """A sweep folder's name: the settings it sweeps, e.g. ``strategy-audience.size-seed``."""
    try:
        parsed = OverridesParser.create().parse_overrides([str(o) for o in task_overrides])
    except HydraException:
        return "sweep"
    keys = [o.get_key_element().lstrip("+~") for o in parsed if o.is_sweep_override()]
    return "-".join(keys).replace("/", ".") or "sweep"


def strategy_label(target: str, choice: str | None = None) -> str:
    """How outputs name the strategy that runs: a built-in by the name it was chosen by
    (obama_2011 runs Burst), a user's class by its class name."""
    target = str(target)
    cls = next((c for c in BUILT_IN.values() if f"{c.__module__}.{c.__name__}" == target), None)
    if cls is None:
        return target.rpartition(".")[2] or "strategy"
    chosen_cls = BUILT_IN.get(str(choice)) if choice else None
    return str(choice) if choice and (chosen_cls is None or chosen_cls is cls) else built_in_name(cls)


def run_dir(parent: str, stamp: str, label: str) -> str:
    """A new run folder, claimed at once (``mkdir``), so that two runs started in the same
    second get folders of their own: ``<stamp>_<label>``, then ``_2``, ``_3``, ..."""
    base = Path(parent) / f"{stamp}_{label}"
    Path(parent).mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        folder = base if n == 1 else base.with_name(f"{base.name}_{n}")
        try:
            folder.mkdir()
            return str(folder)
        except FileExistsError:
            continue
    raise SettingError(f"Cannot find a free run folder under {parent} for {base.name}.")


def day_of_run(share: float, days: int) -> int:
    """The day ``share`` of the way through a run of ``days`` days (burst's default day)."""
    return min(int(float(share) * int(days)), max(int(days) - 1, 0))


def register_all() -> None:
    """The schemas and the resolvers the YAML files use."""
    register()
    OmegaConf.register_new_resolver("sim.sweep_name", sweep_name, replace=True)
    OmegaConf.register_new_resolver("sim.strategy_label", strategy_label, replace=True)
    OmegaConf.register_new_resolver("sim.day_of_run", day_of_run, replace=True)
    OmegaConf.register_new_resolver("sim.run_dir", run_dir, replace=True)
    OmegaConf.register_new_resolver("sim.strategies", lambda sep=" | ": sep.join(strategy_names()),
                                    replace=True)


def settings(*overrides: str) -> DictConfig:
    """Compose the settings as ``python -m sim OVERRIDES`` would (for tests, notebooks, apps)."""
    register_all()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    OmegaConf.set_readonly(cfg, False)
    return cfg


def make_strategy(cfg: DictConfig) -> Strategy:
    """The strategy ``cfg.strategy`` names, made with the settings it declares (settings of
    other strategies are left out), or a :class:`SettingError` that says what is allowed."""
    cls = strategy_class(cfg)
    values = strategy_values(cfg, cls)
    try:
        inspect.signature(cls).bind(**values)
    except TypeError as e:
        raise SettingError(
            f"Setting 'strategy._target_' = {cfg.strategy._target_!r} cannot be used: "
            f"{cls.__name__}({', '.join(values)}) does not fit its constructor ({e}). A "
            f"strategy's constructor takes the settings its Settings class declares.") from None
    return cls(**values)  # an error in the constructor's body is the strategy's own
