"""The command line, ``python -m sim``: run one simulation (or a Hydra multirun) and write
its tables and figure into Hydra's run folder.

A user's mistake (a setting, a strategy that raises) is said in one paragraph with exit
status 2 and leaves no folder; a fault in sim itself keeps its traceback."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.config.checks import check, composition_error, share_strategy_settings, strategy_class
from sim.config.compose import make_strategy, register_all, strategy_label
from sim.config.ensembles import check_ensemble
from sim.config.schema import CONF_DIR
from sim.errors import CollectError, UserError, users_frame
from sim.experiment import collect, sweep
from sim.io.files import write_csv, write_whole
from sim.io.tables import daily

register_all()
log = logging.getLogger("sim")


class CheckSettings(Callback):
    """Refuse bad settings before Hydra makes the run or sweep folder, so none is left behind."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        _refuse_bad(lambda: (check(config), make_strategy(config), check_ensemble(config)))

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        _refuse_bad(lambda: sweep.plan(config))


def _refuse_bad(checking) -> None:
    global _composed
    _composed = True
    try:
        checking()
    except UserError as e:
        sys.stderr.write(f"sim: {e}\n")
        sys.exit(2)
    except Exception as e:  # a user's strategy failed while being made (its __init__)
        where = users_frame(e)
        if where is None:
            raise
        sys.stderr.write(f"sim: {strategy_failed(e, where)}\n")
        sys.exit(2)


def strategy_failed(error: BaseException, where: str) -> str:
    return (f"The strategy raised {type(error).__name__}: {' '.join(str(error).split())} "
            f"({where}). Fix the strategy and run again.")


def _give_up(message: str, out_dir: Path) -> None:
    """A user's mistake found during a single run: one paragraph, no traceback; what Hydra
    wrote for the run goes, and the folder too if nothing else is in it."""
    shutil.rmtree(out_dir / ".hydra", ignore_errors=True)
    (out_dir / f"{HydraConfig.get().job.name}.log").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        out_dir.rmdir()  # only if empty: never delete what was there before
    sys.stderr.write(f"sim: {message}\n")
    sys.exit(2)


class CollectSweep(Callback):
    """Say after each run how far the sweep has got; at its end, gather every run into one
    outcome table."""

    progress: sweep.Progress | None = None

    def __getstate__(self) -> dict:
        return {}  # launchers ship callbacks to their workers; the watching stays here

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        sweep.pin_folder(config)
        runs = sweep.jobs(config)
        if runs is not None:
            self.progress = sweep.Progress.start(Path(config.hydra.sweep.dir), len(runs))
            self.progress.watch()

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if self.progress is not None:
            self.progress.stop()
        folder = Path(config.hydra.sweep.dir)
        try:
            print(collect.summary(collect.write(folder), folder))
        except CollectError as e:
            sys.stderr.write(f"sim: {e}\n")


def main() -> None:
    """``python -m sim``: Hydra runs :func:`task`; a setting Hydra cannot compose (one that does
    not exist, a group option that does not exist, a wrong type) is said in one paragraph."""
    global _composed
    _composed = False  # a second main() in one process (a notebook, a test) starts afresh
    # A strategy's settings reach the strategy whatever it is; check() then names any that
    # this strategy lacks (and a sweep's strategies that lack one ignore it).
    sys.argv[1:] = share_strategy_settings(sys.argv[1:])
    if os.environ.get("HYDRA_FULL_ERROR"):  # the user asked for Hydra's own report
        task()
        return
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let composition errors reach us unprinted
    try:
        task()
    except CompactHydraException as e:
        sys.stderr.write(f"sim: {composition_error(e)}\n")
        sys.exit(2)
    except Exception as e:
        if _composed:  # a fault in sim, a launcher or a user's strategy: the traceback helps
            raise
        # Hydra refused the command line itself (e.g. -m together with --cfg)
        sys.stderr.write(f"sim: {' '.join(str(e).split())}. See python -m sim --help.\n")
        sys.exit(2)
    finally:
        os.environ.pop("HYDRA_FULL_ERROR", None)


_composed = False  # set once Hydra has read the command line and composed the settings


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def task(cfg: DictConfig) -> None:
    """One run (or one run of a sweep) in the folder Hydra made for it."""
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.RUN:
        try:
            run(cfg, out_dir)
        except UserError as e:
            _give_up(str(e), out_dir)
        except Exception as e:  # a fault in a user's strategy is theirs to fix: say where
            where = users_frame(e)
            if where is None:
                raise  # a fault in sim: the traceback helps
            _give_up(strategy_failed(e, where), out_dir)
        return
    # In a sweep a failed run becomes a row with its error; the other runs go on (Hydra would
    # stop the sweep and skip collecting the table if the job raised).
    if cfg.resume and (out_dir / "outcome.csv").is_file():
        print(f"sim: {out_dir} finished before; not run again (resume=true)")
        return
    (out_dir / collect.ERROR_FILE).unlink(missing_ok=True)
    try:
        run(cfg, out_dir, other_strategies="ignore")
    except Exception as e:  # noqa: BLE001 - recorded in the run's folder and the sweep's table
        message = f"{type(e).__name__}: {e}".replace("\n", " ")
        text = f"{message}\n\n{traceback.format_exc()}"
        write_whole(out_dir / collect.ERROR_FILE, lambda tmp: Path(tmp).write_text(text))
        log.error("run %s failed: %s", out_dir.name, message)


def overspent(row, strategy_cfg: DictConfig, days: int) -> str | None:
    """A one-line warning when the run posted more than the strategy's budget."""
    value_budget = int(round(strategy_cfg.posts_per_day * days))
    value_posts = int(row.posts) - int(row.asks)
    if value_posts <= value_budget and int(row.asks) <= strategy_cfg.asks:
        return None
    return (f"warning: the strategy overspent its budget: {value_posts} value posts and "
            f"{row.asks} asks against {value_budget} and {strategy_cfg.asks} "
            f"(strategy.posts_per_day x days, strategy.asks); a tournament disqualifies it.")


def run(cfg: DictConfig, out_dir: Path, other_strategies: str = "refuse") -> None:
    """One simulation into ``out_dir``: tables, figure, resolved settings, a summary line."""
    # Loaded here, not at the top: --help and a refused setting need neither Mesa nor matplotlib.
    from sim.experiment.run import simulate  # noqa: PLC0415
    from sim.io.figures import save_figure  # noqa: PLC0415

    hydra_cfg = HydraConfig.get()
    # A built-in strategy is named by its config (obama_2011, not burst); a user's by its class.
    label = strategy_label(cfg.strategy.get("_target_", ""),
                           hydra_cfg.runtime.choices.get("strategy"))
    result = simulate(cfg, progress=True, label=label, other_strategies=other_strategies)

    out = result.outcome
    # The recorded settings are those the run used: a setting of another strategy that this
    # one ignored (in a mixed sweep) is left out.
    used = OmegaConf.to_container(cfg, resolve=True)
    declared = strategy_class(cfg).settings_names()
    used["strategy"] = {k: v for k, v in used["strategy"].items()
                        if str(k).startswith("_") or k in declared}
    resolved = OmegaConf.to_yaml(OmegaConf.create(used))
    write_whole(out_dir / "config.yaml", lambda tmp: Path(tmp).write_text(resolved))
    write_csv(result.timeseries, out_dir / "timeseries.csv")
    write_csv(daily(result.timeseries, result.model.followers_start), out_dir / "daily.csv")
    row = out.iloc[0]
    title = (f"{row.strategy} on {row.audience} audience of {row.followers_start:,}, "
             f"seed {row.seed}")
    save_figure(result.timeseries, title, out_dir / "figure.png")
    across = None
    if cfg.get("ensemble") is not None:  # before outcome.csv: a resumed sweep skips no member
        across = run_ensemble(cfg, out_dir, label, other_strategies)
    write_csv(out, out_dir / "outcome.csv")  # last: its presence marks a finished run
    log.info(summary(row, out_dir, ensemble=across is not None))
    if across is not None:
        log.info(across)
    if warning := overspent(row, cfg.strategy, cfg.days):
        log.warning(warning)


def run_ensemble(cfg: DictConfig, out_dir: Path, label: str, other_strategies: str) -> str:
    """Every member of the run's ensemble, with the run's settings and seed; a setting given
    on the command line keeps its value in every member. Writes ``ensemble.csv`` (a row per
    member), ``ensemble_daily.csv`` and ``ensemble_summary.csv``; returns the summary."""
    from tqdm import tqdm  # noqa: PLC0415

    from sim.config.ensembles import load  # noqa: PLC0415
    from sim.experiment import ensemble  # noqa: PLC0415

    members = load(cfg.ensemble)
    pinned = ensemble.given_keys(HydraConfig.get().overrides.task) & set(members.keys)
    show = sys.stderr.isatty()
    with tqdm(total=len(members), unit="member", desc="ensemble", disable=not show,
              leave=False) as bar:
        table, days = ensemble.run_members(cfg, members, pinned, label, other_strategies,
                                           progress=lambda _: bar.update(1))
    write_csv(table, out_dir / "ensemble.csv")
    write_csv(days, out_dir / "ensemble_daily.csv")
    write_csv(ensemble.summarise(table), out_dir / "ensemble_summary.csv")
    text = ensemble.describe(table, f"{cfg.ensemble} ({members.source})", f"seed {cfg.seed}")
    if pinned:
        text += (f"\n  pinned in every member (given on the command line): "
                 f"{', '.join(sorted(pinned))}")
    return text


def summary(row, out_dir: Path, ensemble: bool = False) -> str:
    return (
        f"sim {row.version}: strategy={row.strategy} audience={row.audience} seed={row.seed} "
        f"days={row.days}\n"
        f"  followers {row.followers_start:,} -> {row.followers_end:,} "
        f"({row.net_change_pct:+.2f} %): +{count(row.follows, 'follow')}, "
        f"-{count(row.unfollows, 'unfollow')}, {count(row.mutes, 'mute')} "
        f"(peak {count(row.peak_hourly_unfollows, 'unfollow')} in an hour)\n"
        f"  {count(row.posts, 'post')} ({count(row.asks, 'ask')}), "
        f"{count(row.replies_given, 'reply', 'replies')} given; "
        f"{count(row.engagements, 'engagement')}, {count(row.actions, 'action')} on asks\n"
        f"  written to {out_dir}/ (timeseries.csv, daily.csv, outcome.csv, figure.png, "
        f"config.yaml, sim.log"
        + (", ensemble.csv, ensemble_daily.csv, ensemble_summary.csv" if ensemble else "") + ")"
    )


def count(n, one: str, many: str | None = None) -> str:
    """``1 unfollow``, ``2 unfollows``, ``1,234 replies``."""
    n = int(n)
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
