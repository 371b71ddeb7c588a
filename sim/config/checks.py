"""The checks that refuse bad settings before anything is written, each in one paragraph that
names the setting, its value and what is allowed.

:func:`check` walks the composed settings against the schema: a value out of range, a setting
that does not exist (``+audience.sise=5``), a setting of another strategy, a burst that does
not fit in the run, an audience the machine cannot hold. :func:`composition_error` turns
Hydra's own composition errors into the same kind of paragraph.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import math
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ValidationError

from sim.config.memory import check_fits
from sim.config.schema import Config, strategy_names
from sim.errors import SettingError
from sim.model.strategies import BUILT_IN, Strategy, built_in_name

ALLOWED_STRATEGIES = (f"a built-in (strategy={', '.join(strategy_names())}) or an importable "
                      f"subclass of sim.Strategy, e.g. strategy._target_=mymodule.MyStrategy "
                      f"(run from the folder that holds mymodule.py)")


def _allowed(meta: dict) -> str:
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    lo, hi = meta.get("lo"), meta.get("hi")
    low = f"{lo} < value" if meta.get("lo_open") else f"{lo} <= value"
    high = f"< {hi}" if meta.get("hi_open") else f"<= {hi}"
    if lo is not None and hi is not None:
        return f"{low} {high}"
    if lo is not None:
        return low
    return f"value {high}"


def _fail(path: str, value: Any, allowed: str, why: str = "") -> SettingError:
    why = f" {why}" if why else ""
    return SettingError(
        f"Setting '{path}' = {value!r} is not allowed.{why} Allowed: {allowed}. "
        f"Change it on the command line (e.g. {path}=...) or in its YAML file under conf/."
    )


def _child(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else None


def _walk(node: Any, schema: type, prefix: str) -> None:
    """Every setting of ``node`` that ``schema`` declares must lie in its range."""
    for f in dataclasses.fields(schema):
        if f.name.startswith("_") or f.name not in node:
            continue
        value = node[f.name]
        path = f"{prefix}{f.name}"
        child = _child(f)
        if dataclasses.is_dataclass(child):
            _walk(value, type(child), path + ".")
            continue
        meta = f.metadata
        if meta.get("choices") and value not in meta["choices"]:
            raise _fail(path, value, _allowed(meta))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise _fail(path, value, _allowed(meta) if meta.get("lo") is not None
                            else "a finite number")
            lo, hi = meta.get("lo"), meta.get("hi")
            too_low = lo is not None and (value <= lo if meta.get("lo_open") else value < lo)
            too_high = hi is not None and (value >= hi if meta.get("hi_open") else value > hi)
            if too_low or too_high:
                raise _fail(path, value, _allowed(meta))


def _names(schema: type, prefix: str) -> list[str]:
    """Every setting's dotted name in a schema."""
    names = []
    for f in dataclasses.fields(schema):
        child = _child(f)
        if dataclasses.is_dataclass(child):
            names += _names(type(child), f"{prefix}{f.name}.")
        elif not f.name.startswith("_"):
            names.append(prefix + f.name)
    return names


def check_value(key: str, value: Any) -> None:
    """A :class:`SettingError` if the setting ``key`` (its full name) may not take ``value``,
    judged as :func:`check` judges a run's settings."""
    node: Any = value
    for part in reversed(key.split(".")):
        node = {part: node}
    _walk(node, Config, "")


def _extra_keys(node: Any, schema: type, prefix: str) -> list[str]:
    """Keys of ``node`` that ``schema`` does not declare (added with +key=value)."""
    declared = {f.name: _child(f) for f in dataclasses.fields(schema)}
    extra = []
    for key in node:
        path = f"{prefix}{key}"
        if key not in declared:
            extra.append(path)
        elif dataclasses.is_dataclass(declared[key]) and isinstance(node[key], DictConfig):
            extra += _extra_keys(node[key], type(declared[key]), path + ".")
    return extra


def strategy_settings_owners() -> dict[str, list[str]]:
    """Each strategy setting that not every built-in has: the built-ins that have it."""
    owners: dict[str, list[str]] = {}
    for name, cls in BUILT_IN.items():
        for key in cls.settings_names():
            owners.setdefault(f"strategy.{key}", []).append(name)
    return {k: v for k, v in owners.items() if len(v) < len(BUILT_IN)}


def share_strategy_settings(overrides: list[str]) -> list[str]:
    """Overrides in which every strategy setting (``strategy.KEY=...``) reaches the strategy
    node whatever strategy was chosen (``++``): the strategy's own ``Settings`` then judge it
    (:func:`check`), so a user's class can take settings of its own, and in a sweep over
    steady and burst ``strategy.burst_day=10`` reaches both, and steady ignores it."""
    out = []
    for arg in overrides:
        key, eq, value = arg.partition("=")
        bare = key.lstrip("+")
        if eq and bare.startswith("strategy.") and bare.count(".") == 1 and \
                not bare.startswith("strategy._") and not key.startswith(("-", "~")):
            arg = f"++{bare}={value}"
        out.append(arg)
    return out


def known_settings() -> list[str]:
    """Every setting's dotted name, the strategies' own settings included."""
    return _names(Config, "") + [k for k in strategy_settings_owners()
                                 if k not in _names(Config, "")]


def strategy_class(cfg: DictConfig) -> type[Strategy]:
    """The class ``strategy._target_`` names, or a :class:`SettingError` that says why not."""
    target = str(cfg.strategy.get("_target_", ""))
    module_name, _, class_name = target.rpartition(".")

    def refuse(reason: str) -> SettingError:
        return SettingError(f"Setting 'strategy._target_' = {target!r} cannot be used: {reason}."
                            f" Allowed: {ALLOWED_STRATEGIES}.")

    if not module_name or not class_name:
        raise refuse("it must name a class as module.Class")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise refuse(f"there is no module named '{e.name}'") from None
    except Exception as e:  # noqa: BLE001 - a user's module may fail to import in any way
        raise refuse(f"importing {module_name} failed with {type(e).__name__}: "
                     f"{' '.join(str(e).split())}") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        classes = [n for n, c in inspect.getmembers(module, inspect.isclass)
                   if issubclass(c, Strategy) and c is not Strategy]
        near = difflib.get_close_matches(class_name, classes, n=1)
        hint = f" (did you mean {module_name}.{near[0]}?)" if near else ""
        raise refuse(f"module {module_name} has no class {class_name}{hint}")
    if not (inspect.isclass(cls) and issubclass(cls, Strategy)):
        raise refuse(f"{class_name} is not a subclass of sim.Strategy")
    return cls


def strategy_values(cfg: DictConfig, cls: type[Strategy]) -> dict[str, Any]:
    """The settings ``cls`` takes, as plain values (settings of other strategies left out)."""
    names = cls.settings_names()
    return {k: v for k, v in OmegaConf.to_container(cfg.strategy, resolve=True).items()
            if k in names}


def check(cfg: DictConfig, other_strategies: str = "refuse") -> None:
    """Raise :class:`SettingError` naming the first setting out of range or inconsistent.

    ``other_strategies="ignore"`` lets a setting of another built-in strategy stand (a sweep
    over steady and burst sets burst_day for both; steady ignores it).
    """
    _walk(cfg, Config, "")
    cls = strategy_class(cfg)
    _check_types(cfg, cls)
    _walk(cfg.strategy, cls.Settings, "strategy.")
    for key in _extra_keys(cfg, Config, ""):
        if key.startswith("strategy."):
            continue
        if key.startswith(("hydra", "experiment")):
            continue
        raise unknown_setting(key)
    owners = strategy_settings_owners()
    own = {f"strategy.{k}" for k in cls.settings_names()}
    for key in (f"strategy.{k}" for k in cfg.strategy if not str(k).startswith("_")):
        if key in own:
            continue
        if key in owners and other_strategies == "ignore":
            continue
        if key in owners:
            raise unknown_setting(key, strategy=strategy_label_of(cls))
        raise _fail(key, cfg.strategy[key.partition(".")[2]],
                    f"the settings strategy={strategy_label_of(cls)} takes: "
                    f"{', '.join(cls.settings_names())}",
                    why=_did_you_mean(key.partition(".")[2], cls.settings_names()) +
                    "A strategy of your own declares its settings in a Settings dataclass "
                    "(README: Writing your own strategy).")
    rhythm = list(cfg.audience.attention.rhythm)
    if (len(rhythm) != 24 or not all(math.isfinite(w) and w >= 0 for w in rhythm)
            or sum(rhythm) <= 0):
        raise _fail("audience.attention.rhythm", rhythm,
                    "24 non-negative weights, one per hour of the day, not all zero")
    cls.check_settings(strategy_values(cfg, cls), cfg.days * 24)
    check_fits(cfg)


def strategy_label_of(cls: type[Strategy]) -> str:
    """The name a user chose the strategy by: the built-in's name, else its class name."""
    return built_in_name(cls) or cls.__name__


def _did_you_mean(name: str, names: list[str]) -> str:
    near = difflib.get_close_matches(name, names, n=1)
    return f"Did you mean 'strategy.{near[0]}'? " if near else ""


def _check_types(cfg: DictConfig, cls: type[Strategy]) -> None:
    """The strategy's settings have the types its ``Settings`` declare, and each has a value."""
    node = cfg.strategy
    for f in dataclasses.fields(cls.Settings):
        if f.name.startswith("_"):
            continue
        if f.name not in node or OmegaConf.is_missing(node, f.name):
            raise SettingError(
                f"Setting 'strategy.{f.name}' has no value, and strategy="
                f"{strategy_label_of(cls)} needs it ({f.metadata.get('doc', '')}). Give it "
                f"on the command line (strategy.{f.name}=...) or in the strategy's YAML file.")
    try:
        OmegaConf.merge(OmegaConf.structured(cls.Settings),
                        {k: node[k] for k in cls.settings_names()})
    except ValidationError as e:
        key = f"strategy.{e.key}" if e.key else "strategy"
        raise SettingError(f"Setting '{key}' = {e.value!r} is not allowed: "
                           f"{str(e).splitlines()[0]}. Change it on the command line "
                           f"({key}=...).") from None


def fit_strategy(cfg: DictConfig) -> list[str]:
    """Let the strategy fit its settings to the run (a burst set for day 20 moves to the last
    day of a 10-day run); notes on what changed."""
    cls = strategy_class(cfg)
    values = strategy_values(cfg, cls)
    notes = cls.fit_settings(values, cfg.days * 24)
    for key, value in values.items():
        cfg.strategy[key] = value
    return notes


# --- Hydra's composition errors, in one paragraph -----------------------------------------------

def unknown_setting(key: str, strategy: str | None = None) -> SettingError:
    """A setting the run's configuration does not have: the strategies that have it, or the
    nearest name."""
    owners = strategy_settings_owners()
    if key in owners:  # e.g. strategy.burst_day with strategy=steady
        which = f"strategy={strategy}" if strategy else "this run's strategy"
        return SettingError(
            f"Setting '{key}' belongs to strategy={', '.join(owners[key])}; {which} has no such "
            f"setting. Choose one of those strategies, or leave the setting out. In a sweep "
            f"over several strategies (strategy=steady,burst) the strategies that lack it "
            f"ignore it.")
    known = known_settings()
    near = difflib.get_close_matches(key, known, n=1)
    parent = key.rpartition(".")[0]
    siblings = [k.rpartition(".")[2] for k in known if k.rpartition(".")[0] == parent]
    hint = f" Did you mean '{near[0]}'?" if near else ""
    under = (f" The settings under '{parent}' are: {', '.join(siblings)}." if parent and siblings
             else "")
    return SettingError(f"Setting '{key}' does not exist.{hint}{under} python -m sim --help "
                        f"lists every setting.")


def composition_error(error: Exception, strategy: str | None = None) -> SettingError:
    """Hydra's message for a setting that does not exist, a group option that does not exist
    or a value of the wrong type, as one paragraph that says what is allowed. ``strategy``
    names the run's strategy, for a setting that only other strategies have."""
    text = " ".join(str(error).split())
    cause = " ".join(str(error.__cause__).split()).split(" full_key:")[0] if error.__cause__ else ""
    if m := re.search(r"Could not override '([^']+)'", text):
        return unknown_setting(m.group(1), strategy=strategy)
    if m := re.search(r"Could not find '([\w/]+)/([^']+)'", text):
        group, choice = m.groups()
        listed = re.search(r"Available options in '[^']+': (.*?) Config search path", text)
        allowed = ", ".join(listed.group(1).split()) if listed else "see python -m sim --help"
        extra = {"strategy": ", or your own class with strategy._target_=mymodule.MyStrategy",
                 "hydra/launcher": ". Launchers come with extras: pip install 'sim[joblib]', "
                                   "'sim[submitit]' or 'sim[ray]'"}.get(group, "")
        return SettingError(f"There is no {group} named '{choice}'. Allowed: {allowed}{extra}.")
    if m := re.search(r"Error merging override ([^=\s]+)=(\S*)", text):
        key, value = m.groups()
        key = key.lstrip("+~")
        return SettingError(f"Setting '{key}' = {value!r} is not allowed: {cause.rstrip('.')}. "
                            f"Change it on the command line ({key}=...).")
    if "override_grammar" in text:
        return SettingError(f"A setting on the command line cannot be read: {text.rstrip('.')}. "
                            f"Quote values with brackets or spaces, e.g. seed='range(0,10)'.")
    return SettingError(f"{text} {cause}".strip())
