"""A strategy tournament: every entry on the same audiences and seeds with the same budget,
ranked on followers kept, actions won and engagement::

    python -m sim.tournament entries/ steady burst [--seeds 5] [SETTING=VALUE ...]

An entry is a .py file (every sim.Strategy subclass defined in it enters), a folder of such
files, a built-in strategy (a file of conf/strategy/: steady, burst, broadcast, silent, ...)
or an importable class (mymodule.MyStrategy). Settings such as audience.size=1000 or
budget.asks=10 apply to every run. An entry that fails to load, raises, returns something
that is not a plan, or spends more posts or asks than the budget is disqualified with the
reason; the others go on. Writes standings.csv, runs.csv, report.txt and standings.png to
results/tournaments/<time>/ (or --out). Start from the template:
experiments/strategy_template.py.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import inspect
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from tqdm import tqdm

from sim.config.checks import check, composition_error, fit_strategy, share_strategy_settings
from sim.config.compose import make_strategy, settings
from sim.config.schema import strategy_names
from sim.errors import SettingError, TournamentError, users_frame
from sim.experiment.run import simulate
from sim.experiment.stats import interval
from sim.io.figures import save
from sim.io.files import write_folder
from sim.model.strategies import Strategy

BUILT_IN = tuple(strategy_names())  # the files of conf/strategy/
CRITERIA = {  # outcome column: what it measures in the standings
    "net_change_pct": "followers kept (net change, %)",
    "actions": "actions won on asks",
    "engagements": "engagement (likes, replies, shares)",
}


@dataclass
class Entry:
    """One contestant: a name, how to make a fresh strategy for a run, and how it fared."""

    name: str
    make: Callable[[], Strategy] | None
    error: str = ""  # why it is disqualified
    runs: list[dict] = field(default_factory=list)


# --- entries ----------------------------------------------------------------------------------

def entries(specs: list[str], base, overrides: list[str]) -> list[Entry]:
    """The contestants named on the command line, in order; a file or class that cannot be
    loaded is an entry already disqualified."""
    found: list[Entry] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
            if not files:
                raise TournamentError(f"'{spec}' holds no .py files. Put one strategy file per "
                                      f"student in it (start from experiments/strategy_template.py).")
            for file in files:
                found += _from_file(file, base)
        elif path.suffix == ".py":
            if not path.is_file():
                raise TournamentError(f"'{spec}' does not exist. Give a .py file, a folder of "
                                      f"them, a built-in strategy ({', '.join(BUILT_IN)}) or an "
                                      f"importable class (mymodule.MyStrategy).")
            found += _from_file(path, base)
        elif spec in BUILT_IN:
            found.append(Entry(spec, _built_in(spec, overrides)))
        elif "." in spec:
            found.append(_from_import(spec, base))
        else:
            raise TournamentError(f"'{spec}' is not an entry. Give a .py file, a folder of them, a "
                                  f"built-in strategy ({', '.join(BUILT_IN)}) or an importable "
                                  f"class (mymodule.MyStrategy).")
    names = [e.name for e in found]
    for e in found:  # the same class entered twice keeps apart by position
        if names.count(e.name) > 1:
            e.name = f"{e.name} #{found.index(e) + 1}"
    if not found:
        raise TournamentError("No entries. Give .py files, folders of them or built-in names.")
    return found


def _budget(base) -> dict:
    s = base.strategy  # steady's settings: the shared budget and reply capacity
    return {"posts_per_day": s.posts_per_day, "asks": s.asks, "reply_share": s.reply_share,
            "reply_capacity": s.reply_capacity}


def _from_file(path: Path, base) -> list[Entry]:
    module_name = f"sim_entry_{path.stem}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - a student's file may fail in any way
        return [Entry(path.stem, None, f"cannot be loaded: {_reason(e)}")]
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, Strategy) and c.__module__ == module_name]
    if not classes:
        return [Entry(path.stem, None, "defines no subclass of sim.Strategy")]
    budget = _budget(base)
    # named after the file, which is the student's own: many keep the template's class name
    return [Entry(path.stem if len(classes) == 1 else f"{path.stem}.{c.__name__}",
                  (lambda c=c: c(**budget))) for c in classes]


def _from_import(dotted: str, base) -> Entry:
    module, _, name = dotted.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except Exception as e:  # noqa: BLE001
        return Entry(dotted, None, f"cannot be loaded: {_reason(e)}")
    if not (inspect.isclass(cls) and issubclass(cls, Strategy)):
        return Entry(dotted, None, "is not a subclass of sim.Strategy")
    budget = _budget(base)
    return Entry(name, lambda: cls(**budget))


def _built_in(name: str, overrides: list[str]) -> Callable[[], Strategy]:
    cfg = settings(f"strategy={name}", *share_strategy_settings(overrides))  # + the budget
    fit_strategy(cfg)  # a burst set for day 20 goes on the last day of a shorter tournament
    return lambda: make_strategy(cfg)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".strip(": ")


# --- the tournament ---------------------------------------------------------------------------

class TimeLimit(Exception):
    """A run took longer than the tournament allows (an endless loop in plan(), say)."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Interrupt the run after ``seconds`` (Unix timers; no limit where there are none)."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def stop(signum, frame):
        raise TimeLimit(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def play(contestants: list[Entry], base, seeds: list[int], progress: bool = False,
         limit: float = 120.0) -> pd.DataFrame:
    """Every entry on every seed (the same audiences for all); one row per run. A run longer
    than ``limit`` seconds disqualifies its entry."""
    value_budget = int(round(base.budget.posts_per_day * base.days))
    rows = []
    bar = tqdm(total=len(contestants) * len(seeds), unit="run", desc="tournament",
               disable=not (progress and sys.stderr.isatty()))
    for entry in contestants:
        for seed in seeds:
            bar.update(1)
            if entry.error:
                continue
            cfg = base.copy()
            cfg.seed = seed
            try:
                with time_limit(limit):
                    result = simulate(cfg, strategy=entry.make(), label=entry.name,
                                      other_strategies="ignore")
            except (Exception, SystemExit) as e:  # noqa: BLE001 - a student's code may do anything
                entry.error = f"failed on seed {seed}: {_reason(e)}"
                if where := users_frame(e):  # the entry's own line
                    file, _, line = where.rpartition(", ")
                    entry.error += f" ({Path(file).name}, {line})"
                continue
            row = result.outcome.iloc[0].to_dict()
            value_posts = row["posts"] - row["asks"]
            if row["asks"] > base.budget.asks or value_posts > value_budget:
                entry.error = (f"overspent on seed {seed}: {value_posts} value posts and "
                               f"{row['asks']} asks against a budget of {value_budget} and "
                               f"{base.budget.asks}")
                continue
            rows.append({"entry": entry.name, **row})
    bar.close()
    return pd.DataFrame(rows)


def standings(contestants: list[Entry], runs: pd.DataFrame) -> pd.DataFrame:
    """One row per entry: each criterion's mean and 95 % interval over seeds, its rank on it
    (1 is best), and the overall rank (by the mean of the three ranks). Disqualified entries
    come last, with the reason."""
    rows = []
    for entry in contestants:
        if entry.error:
            continue
        own = runs[runs.entry == entry.name]
        row = {"entry": entry.name, "seeds": len(own)}
        for criterion in CRITERIA:
            mean, low, high = interval(own[criterion].to_numpy(dtype=float))
            row |= {criterion: mean, f"{criterion}_low": low, f"{criterion}_high": high}
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        for criterion in CRITERIA:
            table[f"rank_{criterion}"] = table[criterion].rank(ascending=False, method="min")
        table["score"] = table[[f"rank_{c}" for c in CRITERIA]].mean(axis=1)
        table = table.sort_values(["score", "net_change_pct"], ascending=[True, False])
        table.insert(0, "rank", table.score.rank(method="min").astype(int))  # ties share
        table["status"] = "ranked"
    out = [e for e in contestants if e.error]
    if out:
        table = pd.concat([table, pd.DataFrame({"entry": [e.name for e in out],
                                                "status": "disqualified",
                                                "reason": [e.error for e in out]})],
                          ignore_index=True)
    return table


def report(table: pd.DataFrame, base, seeds: list[int]) -> str:
    lines = [f"Tournament: {len(table)} entries, seeds {seeds[0]}..{seeds[-1]}, "
             f"{base.audience.size:,} followers, {base.days} days, budget "
             f"{base.budget.posts_per_day:g} value posts a day and {base.budget.asks} asks.",
             "Mean over seeds [95 % interval]; rank 1 is best on each criterion; overall by "
             "the mean of the three ranks.", ""]
    ranked = table[table.status == "ranked"]
    if len(ranked):
        shown = pd.DataFrame({"rank": ranked["rank"].astype(int), "entry": ranked.entry})
        for criterion, label in CRITERIA.items():
            shown[label.split(" (")[0]] = [
                f"{m:.2f} [{lo:.2f}, {hi:.2f}] #{int(r)}" if not np.isnan(lo) else f"{m:.2f} #{int(r)}"
                for m, lo, hi, r in zip(ranked[criterion], ranked[f"{criterion}_low"],
                                        ranked[f"{criterion}_high"],
                                        ranked[f"rank_{criterion}"])]
        lines.append(shown.to_string(index=False))
    for _, row in table[table.status == "disqualified"].iterrows():
        lines.append(f"disqualified: {row.entry}: {row.reason}")
    return "\n".join(lines)


def figure(table: pd.DataFrame) -> Figure:
    """A panel per criterion: each ranked entry's mean with its interval, best at the top."""
    ranked = table[table.status == "ranked"].iloc[::-1]
    fig = Figure(figsize=(5.2 * len(CRITERIA), 1.2 + 0.45 * max(len(ranked), 1)),
                 layout="constrained")
    axes = fig.subplots(1, len(CRITERIA), sharey=True)
    y = np.arange(len(ranked))
    for ax, (criterion, label) in zip(axes, CRITERIA.items()):
        mean = ranked[criterion].to_numpy(dtype=float)
        err = np.nan_to_num(np.vstack([mean - ranked[f"{criterion}_low"].to_numpy(dtype=float),
                                       ranked[f"{criterion}_high"].to_numpy(dtype=float) - mean]))
        ax.barh(y, mean, xerr=err, color="tab:blue", alpha=0.8, capsize=4)
        ax.set_title(label, fontsize=11)
        ax.axvline(0, color="grey", lw=1)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(y, [f"{int(r)}. {e}" for r, e in zip(ranked["rank"], ranked.entry)])
    fig.suptitle("Tournament standings: mean over seeds with 95 % intervals", fontsize=12)
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sim.tournament",
                                     description=__doc__.replace("::", ":").strip(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Example: python -m sim.tournament class_entries/ "
                                            "steady burst --seeds 5 audience.size=1000")
    parser.add_argument("items", nargs="+", metavar="ENTRY or SETTING=VALUE",
                        help="entries (files, folders, built-ins, module.Class) and settings")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the results (default results/tournaments/<time>/)")
    parser.add_argument("--time-limit", type=float, default=120.0, metavar="SECONDS",
                        help="longest a run may take before its entry is disqualified (120)")
    args = parser.parse_intermixed_args(argv)
    overrides = [i for i in args.items if "=" in i]
    specs = [i for i in args.items if "=" not in i]
    try:
        if args.seeds < 1:
            raise TournamentError(f"--seeds {args.seeds}: give at least 1 seed.")
        if not specs:
            raise TournamentError("No entries. Give .py files, folders of them or built-in "
                                  "names, e.g. python -m sim.tournament entries/ steady burst.")
        base = settings("strategy=steady", *share_strategy_settings(overrides))
        check(base, other_strategies="ignore")
        contestants = entries(specs, base, overrides)
    except (TournamentError, SettingError) as e:
        sys.stderr.write(f"sim.tournament: {e}\n")
        sys.exit(2)
    except Exception as e:  # noqa: BLE001 - Hydra's composition errors, said in one paragraph
        sys.stderr.write(f"sim.tournament: {composition_error(e)}\n")
        sys.exit(2)
    seeds = list(range(args.seeds))
    runs = play(contestants, base, seeds, progress=True, limit=args.time_limit)
    table = standings(contestants, runs)
    text = report(table, base, seeds)
    out = args.out or Path("results") / "tournaments" / datetime.now().strftime(
        "%Y-%m-%d_%H-%M-%S")
    files = {"standings.csv": lambda tmp: table.to_csv(tmp, index=False),
             "runs.csv": lambda tmp: runs.to_csv(tmp, index=False),
             "report.txt": lambda tmp: Path(tmp).write_text(text + "\n")}
    if (table.status == "ranked").any():
        files["standings.png"] = lambda tmp: save(figure(table), Path(tmp), dpi=150)
    write_folder(out, files)
    print(text)
    print(f"\nwrote {out}/ ({', '.join(files)})")


if __name__ == "__main__":
    main()
