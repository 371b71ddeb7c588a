"""A sweep as a whole: the runs it will make, refused up front if any cannot run; its folder
name; and how far it has got.

Hydra's basic sweeper makes the sweep folder before it composes the first run, so a typo in a
swept setting would leave a folder behind and a failed row per run. :func:`plan` composes every
run the way the sweeper will, before any folder exists, so a sweep either starts whole or is
refused with one paragraph.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from sim.config.checks import (
    check,
    composition_error,
    known_settings,
    share_strategy_settings,
    strategy_class,
    strategy_settings_owners,
    unknown_setting,
)
from sim.config.compose import make_strategy
from sim.config.ensembles import check_ensemble
from sim.errors import SettingError
from sim.experiment import collect

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
HINT = ("Settings are named as in python -m sim --help (e.g. audience.size=1000,5000, "
        "strategy=steady,burst, seed='range(0,10)').")


def pin_folder(config: DictConfig) -> None:
    """Fix the sweep folder's name for every run. Each run composes its own config, in which
    only its own settings are overrides, so the name must be passed on as an override."""
    folder = str(config.hydra.sweep.dir)
    with open_dict(config), read_write(config):
        config.hydra.sweep.dir = folder
        config.hydra.overrides.hydra.append(f"hydra.sweep.dir='{folder}'")


def jobs(config: DictConfig) -> list[list[str]] | None:
    """Every run's settings, in the order the basic sweeper runs them (None for another
    sweeper, whose runs are not known in advance)."""
    if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    params = config.hydra.sweeper.get("params") or {}
    arguments = [f"{k}={v}" for k, v in params.items()]
    arguments += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    loader = GlobalHydra.instance().config_loader()
    try:
        parsed = OverridesParser.create(config_loader=loader).parse_overrides(arguments)
    except HydraException as e:
        raise SettingError(f"The sweep's settings cannot be read: {composition_error(e)} "
                           f"{HINT}") from e
    batches = BasicSweeper.split_arguments(parsed, config.hydra.sweeper.get("max_batch_size"))
    return [list(job) for batch in batches for job in batch]


def plan(config: DictConfig) -> list[list[str]] | None:
    """The sweep's runs, each composed and checked as it will run; a :class:`SettingError`
    naming the first run that could not."""
    shared = _share_strategy_settings(config)
    runs = jobs(config)
    if runs is None:
        return None
    if not runs:
        raise SettingError(
            "The sweep has no runs: a swept setting has no values (e.g. seed='range(0,0)'). "
            "Give each swept setting at least one value, e.g. seed='range(0,10)'.")
    _check_folder(config, runs)
    known = set(known_settings())
    for overrides in runs:
        for o in overrides:  # a + adds a key Hydra accepts and the model would ignore
            key = o.partition("=")[0]
            # (a strategy's settings are judged by its own Settings when each run is checked)
            if key.startswith("+") and not key.lstrip("+").startswith(
                    ("hydra", "experiment", "strategy.")) and key.lstrip("+") not in known:
                raise SettingError(f"Run {' '.join(overrides)}: {unknown_setting(key.lstrip('+'))}")
    combinations = len({tuple(o for o in job if not o.startswith("seed=")) for job in runs})
    if combinations > 20:
        sys.stderr.write(f"sim: checking the sweep's {len(runs)} runs ({combinations} "
                         f"combinations of settings) ...\n")
    loader = GlobalHydra.instance().config_loader()
    seen: dict[tuple, None] = {}
    for overrides in runs:
        # Seeds never change whether a run can start (any seed >= 0 runs), so one composition
        # per combination of the other settings is enough; the seeds are checked by value.
        others = tuple(o for o in overrides if not o.startswith("seed="))
        if others in seen:
            continue
        seen[others] = None
        try:
            job = loader.load_sweep_config(config, list(overrides))
            check(job, other_strategies="ignore")
            check_ensemble(job)
            declared = strategy_class(job).settings_names()
            shared = {key for key in shared if key.partition(".")[2] not in declared}
            make_strategy(job)
        except SettingError as e:
            raise SettingError(f"Run {' '.join(overrides)}: {e}") from e
        except (HydraException, OmegaConfBaseException) as e:
            raise SettingError(f"Run {' '.join(overrides)}: {composition_error(e)}") from e
    if shared:  # a strategy setting that no strategy of the sweep has
        key = sorted(shared)[0]
        owners = ", ".join(strategy_settings_owners()[key])
        raise SettingError(f"Setting '{key}' belongs to strategy={owners}, and no strategy of "
                           f"this sweep has it. Add one of those strategies to the sweep "
                           f"(e.g. strategy=steady,{owners.split(', ')[0]}), or leave the "
                           f"setting out.")
    for overrides in runs:
        for o in overrides:
            if o.startswith("seed="):
                _check_seed(o.partition("=")[2], overrides)
    return runs


def _share_strategy_settings(config: DictConfig) -> set[str]:
    """Let every strategy setting reach every run of the sweep (``++``, as the command line
    does), so that ``strategy=steady,burst strategy.burst_day=10`` runs: steady ignores
    burst_day. Returns the settings that only some built-ins have; :func:`plan` checks that
    a strategy of the sweep has each."""
    task = list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    rewritten = share_strategy_settings(task)
    if rewritten != task:
        with open_dict(config), read_write(config):
            config.hydra.overrides.task = rewritten
    owned = strategy_settings_owners()
    return {o.partition("=")[0].lstrip("+") for o in rewritten
            if o.partition("=")[0].lstrip("+") in owned}


def _check_folder(config: DictConfig, runs: list[list[str]]) -> None:
    """A sweep folder is new, or (resume=true) holds runs of this very sweep."""
    try:
        folder = Path(str(config.hydra.sweep.dir))
    except OmegaConfBaseException as e:
        raise SettingError(f"Setting 'hydra.sweep.dir' cannot be read: {' '.join(str(e).split())}"
                           f" Give a folder, e.g. hydra.sweep.dir=results/sweeps/mine.") from e
    if folder.exists() and not folder.is_dir():
        raise SettingError(f"Setting 'hydra.sweep.dir' = '{folder}' is a file, not a folder. "
                           f"Give a new folder, e.g. hydra.sweep.dir=results/sweeps/mine.")
    existing = collect.run_folders(folder) if folder.is_dir() else []
    if not existing:
        return
    if not config.resume:
        raise SettingError(f"The sweep folder '{folder}' already holds {len(existing)} runs. "
                           f"Give a new hydra.sweep.dir, or finish that sweep with resume=true "
                           f"and the settings it was started with.")
    planned = {str(i): sorted(o for o in job if not o.startswith("resume="))
               for i, job in enumerate(runs)}
    for run in existing:
        made = sorted(o for o in collect.recorded_overrides(run) if not o.startswith("resume="))
        if planned.get(run.name) != made:
            raise SettingError(
                f"resume=true: run {run.name} in '{folder}' was made with {' '.join(made)}, but "
                f"this sweep would make it with {' '.join(planned.get(run.name, ['nothing']))}. "
                f"Resume with the settings the sweep was started with, or give a new "
                f"hydra.sweep.dir.")


def _check_seed(value: str, overrides) -> None:
    try:
        ok = int(value) >= 0 and str(int(value)) == value.strip()
    except ValueError:
        ok = False
    if not ok:
        raise SettingError(f"Run {' '.join(overrides)}: Setting 'seed' = {value!r} is not "
                           f"allowed. Allowed: a whole number >= 0, e.g. seed='range(0,10)'.")


@dataclass
class Progress:
    """How far a sweep has got, counted from its run folders, so it holds whichever launcher
    (and however many processes, or machines) ran the runs. A thread of the process that
    launched the sweep reports whenever the count changes."""

    folder: Path
    total: int
    started: float = field(default_factory=time.time)
    done_before: int = 0  # finished in an earlier attempt (resume=true): no time spent on them
    interval: float = 0.5  # seconds between looks at the folders
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _reported: tuple[int, int] | None = None

    @classmethod
    def start(cls, folder: Path, total: int) -> Progress:
        finished = sum(collect.status(f) == collect.FINISHED
                       for f in collect.run_folders(folder)) if folder.is_dir() else 0
        return cls(folder, total, done_before=finished)

    def counts(self) -> tuple[int, int]:
        """(finished, failed in this attempt): an error left by an earlier attempt is a run
        still to do."""
        done = failed = 0
        for run in collect.run_folders(self.folder) if self.folder.is_dir() else []:
            state = collect.status(run)
            done += state == collect.FINISHED
            failed += (state == collect.FAILED
                       and (run / collect.ERROR_FILE).stat().st_mtime >= self.started)
        return done, failed

    def line(self, now: float | None = None, counts: tuple[int, int] | None = None) -> str:
        done, failed = counts or self.counts()
        left = max(self.total - done - failed, 0)
        spent = (now or time.time()) - self.started
        ran = done + failed - self.done_before
        text = f"sweep: {done} of {self.total} runs done, {failed} failed, {left} left"
        if left and ran > 0:
            text += f", about {_duration(spent / ran * left)} to go"
        return text + f" ({_duration(spent)} so far)"

    def watch(self) -> None:
        """Report in the background until :meth:`stop`."""
        def loop() -> None:
            last = self.counts()
            while not self._stop.wait(self.interval):
                now = self.counts()
                if now != last:
                    last = now
                    self.report(now)
        self._thread = threading.Thread(target=loop, name="sim-sweep-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        now = self.counts()
        if now != self._reported:
            self.report(now)

    def report(self, counts: tuple[int, int] | None = None) -> None:
        self._reported = counts or self.counts()
        sys.stderr.write(f"sim {self.line(counts=self._reported)}\n")
        sys.stderr.flush()


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
