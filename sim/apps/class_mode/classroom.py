"""A class in class mode: its settings, its students' submissions, its tournament and its
replay, shared by the teacher's page and the students' pages of one server.

The tournament and the replay run in threads of their own, not in a page's session: a teacher
who reloads the page, or opens it twice, sees the same standings. Pages learn of a change by
:meth:`Classroom.wait`, which returns when :attr:`Classroom.version` moves.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf

from sim.apps import tournament
from sim.apps.class_mode.replay import Replay
from sim.apps.class_mode.standings import ClassTournament, top_and_bottom
from sim.apps.class_mode.store import Record, Store
from sim.apps.class_mode.submission import ClassRules, read
from sim.experiment.run import simulate
from sim.io.figures import save
from sim.io.files import write_folder, write_whole

log = logging.getLogger(__name__)


def png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()


@dataclass
class Progress:
    """Where the tournament stands: for the teacher's page."""

    running: bool = False
    done: int = 0
    total: int = 0
    seconds: float = 0.0
    submissions: int = 0  # submissions it ran (the store's version when it started)
    store_version: int = -1
    error: str = ""


class Classroom:
    """One class: ``base`` are the run's settings (the class's overrides composed on steady's),
    ``folder`` keeps the submissions and the tournament's results."""

    def __init__(self, base: DictConfig, folder: Path, seeds: list[int],
                 overrides: list[str], capacity: int = 60) -> None:
        self.base, self.folder, self.seeds = base, Path(folder), seeds
        self.overrides = list(overrides)  # the class's settings, for a student's command line
        self.rules = ClassRules.from_settings(base)
        self.store = Store(self.folder / "submissions", capacity)
        self.tournament = ClassTournament(base, seeds, self.rules, overrides)
        self.student_address = "/student"  # what the teacher's page tells students to open
        self.progress = Progress()
        self.standings: pd.DataFrame | None = None  # the last finished tournament's
        self.live: pd.DataFrame | None = None  # the table so far while a tournament runs
        self.standings_png: bytes | None = None
        self.replay_png: bytes | None = None
        self.replay_title = ""
        self.replaying = False
        self.last_replay: Replay | None = None
        self.auto = False  # run the tournament again whenever the submissions change
        self._version = 0
        self._changed = threading.Condition()
        self._work = threading.Lock()  # one tournament or replay at a time
        write_whole(self.folder / "config.yaml",
                    lambda tmp: Path(tmp).write_text(OmegaConf.to_yaml(base)))

    def warm_up(self) -> None:
        """A day of a hundred followers: the array engine's hour is compiled (once per machine,
        about ten seconds) before the teacher presses Run."""
        cfg = self.base.copy()
        cfg.audience.size, cfg.days = 100, 1
        simulate(cfg)

    # --- changes, for the pages --------------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows with every change a page shows: a submission, a step of the tournament or of
        the replay."""
        return self._version + self.store.version

    def changed(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float = 1.0) -> int:
        """The version, once it differs from ``seen`` or after ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version

    # --- the students' side ------------------------------------------------------------------

    def submit(self, student: str, form: Mapping[str, str]) -> Record:
        """Read a student's form and keep it, or :class:`~sim.apps.class_mode.submission.Refused`."""
        record = self.store.put(student, read(form, self.rules))
        self.changed()
        log.info("class mode: '%s' submitted (%d in class)", record.submission.name,
                 len(self.store))
        if self.auto:
            self.run_tournament()  # unless one runs: it starts again when that one ends
        return record

    def remove(self, student: str) -> Record | None:
        """The teacher removes a student's submission (an offensive name on the projector,
        say); the standings keep it until the tournament runs again."""
        record = self.store.remove(student)
        if record is not None:
            log.info("class mode: '%s' removed by the teacher", record.submission.name)
            self.changed()
        return record

    def rank_of(self, name: str) -> tuple[int, int] | None:
        """(rank, ranked strategies) of a strategy in the last finished tournament's standings,
        if it was ranked (never the partial table of a tournament still running)."""
        table = self.standings
        if table is None:
            return None
        ranked = table[table.status == "ranked"]
        hit = ranked[ranked.entry == name]
        return (int(hit["rank"].iloc[0]), len(ranked)) if len(hit) else None

    # --- the teacher's side ------------------------------------------------------------------

    def run_tournament(self, wait: bool = False) -> bool:
        """Start the tournament in a thread (False if a tournament or replay is running);
        ``wait`` runs it here instead."""
        if not self._work.acquire(blocking=False):
            return False
        self.progress = Progress(running=True, store_version=self.store.version)
        self.changed()
        if wait:
            self._tournament()
        else:
            threading.Thread(target=self._tournament, name="class-tournament", daemon=True).start()
        return True

    def _tournament(self) -> None:
        start = time.perf_counter()
        try:
            records = self.store.records()
            self.progress.submissions = len(records)

            def progress(done: int, total: int, table: pd.DataFrame) -> None:
                self.progress.done, self.progress.total = done, total
                self.progress.seconds = time.perf_counter() - start
                self.live = table  # the teacher's page shows it; students see ranks only
                self.changed()  # from a finished tournament

            table, runs = self.tournament.play(records, progress)
            self.standings, self.live = table, None
            ranked = (table.status == "ranked").any()
            self.standings_png = png(tournament.figure(table)) if ranked else None
            self._write(table, runs)
        except Exception as error:  # noqa: BLE001 - the page says so; the class goes on
            log.exception("class mode: the tournament failed")
            self.progress.error = f"The tournament failed: {type(error).__name__}: {error}"
        finally:
            self.live = None
            self.progress.running = False
            self.progress.seconds = time.perf_counter() - start
            self._work.release()
            self.changed()
        if self.auto and self.store.version != self.progress.store_version and \
                not self.progress.error:
            self.run_tournament()  # submissions came in while it ran

    def _write(self, table: pd.DataFrame, runs: pd.DataFrame) -> None:
        """standings.csv, runs.csv, report.txt and standings.png in <folder>/tournament/."""
        text = self.tournament.report(table)
        files = {"standings.csv": lambda tmp: table.to_csv(tmp, index=False),
                 "runs.csv": lambda tmp: runs.to_csv(tmp, index=False),
                 "report.txt": lambda tmp: Path(tmp).write_text(text + "\n")}
        if self.standings_png:
            files["standings.png"] = lambda tmp: save(tournament.figure(table), Path(tmp), dpi=150)
        write_folder(self.folder / "tournament", files)

    def replay(self, wait: bool = False, hours_per_frame: int = 24) -> bool:
        """Replay the top and the bottom strategies of the last standings side by side, on the
        first seed, a frame a day (False if there is nothing to replay or work is running)."""
        if self.standings is None or len(top_and_bottom(self.standings)) < 2:
            return False
        if not self._work.acquire(blocking=False):
            return False
        self.replaying = True
        self.changed()
        if wait:
            self._replay(hours_per_frame)
        else:
            threading.Thread(target=self._replay, args=(hours_per_frame,), name="class-replay",
                             daemon=True).start()
        return True

    def _replay(self, hours_per_frame: int) -> None:
        try:
            labels = top_and_bottom(self.standings)
            makers = self.tournament.played  # as they ran, even if resubmitted since
            cfg = self.base.copy()
            cfg.seed = self.seeds[0]
            replay = Replay(cfg, [(label, makers[label]()) for label in labels])
            self.last_replay = replay
            title = (f"Replay on seed {cfg.seed}, {cfg.audience.size:,} followers: "
                     f"{labels[0]} (top) and {labels[1]} (bottom)")
            while replay.running:
                replay.advance(hours_per_frame)
                self.replay_png = png(replay.figure())
                self.replay_title = f"{title}, day {replay.day:.0f} of {cfg.days}"
                self.changed()
        except Exception as error:  # noqa: BLE001
            log.exception("class mode: the replay failed")
            self.replay_title = f"The replay failed: {type(error).__name__}: {error}"
        finally:
            self.replaying = False
            self._work.release()
            self.changed()


CURRENT: Classroom | None = None  # the class this server serves (set by sim.apps.class_mode.server)


def current() -> Classroom:
    if CURRENT is None:
        raise RuntimeError("no class is being served: start one with python -m sim.app --class")
    return CURRENT
