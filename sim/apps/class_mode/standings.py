"""The class's live tournament: every submission and the references (steady and burst) on the
same audience and seeds, ranked on followers kept, actions on asks and engagement, each with a
95 % interval across seeds.

The runs, the ranking, the report and the figure are the tournament's
(:mod:`sim.apps.tournament`); this adds what a live class needs: results kept per strategy (a
student who submits again, or a new one, costs only their own runs), the standings after each
strategy (the table fills in while the rest run), and the table as HTML.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from sim.apps import tournament
from sim.apps.class_mode.store import Record
from sim.apps.class_mode.submission import RESERVED, ClassRules

CRITERIA = tournament.CRITERIA


class ClassTournament:
    """Runs the class's strategies on ``base`` (settings composed with the class's overrides)
    for every seed in ``seeds``, and keeps each strategy's runs."""

    def __init__(self, base: DictConfig, seeds: list[int], rules: ClassRules,
                 overrides: list[str]) -> None:
        self.base, self.seeds, self.rules = base, seeds, rules
        # the references as the tournament makes them: their conf/strategy/ files with the
        # class's settings and budget
        self.references = {e.name: e.make for e in tournament.entries(list(RESERVED), base,
                                                                      overrides)}
        self._done: dict[str, tuple[pd.DataFrame, str]] = {}  # key: (runs, why disqualified)
        self.played: dict[str, Callable] = {}  # the last tournament's strategies, by name

    def contestants(self, records: list[Record]) -> list[tuple[str, tournament.Entry]]:
        """(key, entry) for every submission, then the references. The key is what the
        strategy does (its settings), so an unchanged strategy is not run again."""
        found = []
        for record in records:
            submission = record.submission
            key = json.dumps(submission.settings(self.rules), sort_keys=True)
            found.append((key, tournament.Entry(submission.name,
                                                lambda s=submission: s.strategy(self.rules))))
        found += [(name, tournament.Entry(name, make)) for name, make in self.references.items()]
        return found

    def play(self, records: list[Record],
             progress: Callable[[int, int, pd.DataFrame], None] = lambda *a: None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(standings, runs) of every submission and reference; ``progress(done, total,
        standings so far)`` after each strategy."""
        contestants = self.contestants(records)
        self.played = {entry.name: entry.make for _, entry in contestants}
        runs: list[pd.DataFrame] = []
        for done, (key, entry) in enumerate(contestants, start=1):
            if key not in self._done:
                own = tournament.play([entry], self.base, self.seeds, limit=0)
                self._done[key] = (own.drop(columns="entry", errors="ignore"), entry.error)
            own, entry.error = self._done[key]
            if len(own):
                runs.append(own.assign(entry=entry.name))
            progress(done, len(contestants), self.standings(contestants[:done], runs))
        # keep only what this tournament played: a class's old strategies are not kept forever
        self._done = {key: self._done[key] for key, _ in contestants}
        return self.standings(contestants, runs), _joined(runs)

    @staticmethod
    def standings(contestants: list[tuple[str, tournament.Entry]],
                  runs: list[pd.DataFrame]) -> pd.DataFrame:
        table = tournament.standings([e for _, e in contestants], _joined(runs))
        table["reference"] = table.entry.isin(RESERVED)
        return table

    def report(self, table: pd.DataFrame) -> str:
        return tournament.report(table, self.base, self.seeds)


def _joined(runs: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(runs, ignore_index=True) if runs else pd.DataFrame({"entry": []})


def top_and_bottom(table: pd.DataFrame) -> list[str]:
    """The best and the worst ranked strategies, the students' own when two or more ranked."""
    ranked = table[table.status == "ranked"]
    students = ranked[~ranked.reference]
    pool = students if len(students) >= 2 else ranked
    return [pool.entry.iloc[0], pool.entry.iloc[-1]] if len(pool) >= 2 else list(pool.entry)


def _cell(row, criterion: str) -> str:
    mean, low, high = row[criterion], row[f"{criterion}_low"], row[f"{criterion}_high"]
    if np.isnan(low):
        return f"{mean:.2f}"
    return f"{mean:.2f} <small>[{low:.2f}, {high:.2f}]</small>"


def table_html(table: pd.DataFrame) -> str:
    """The standings as an HTML table (plain HTML: solara's Markdown would fetch a maths
    renderer from the internet): rank, name, each criterion's mean [95 % interval]; the
    disqualified last, with the reason."""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in CRITERIA.values())
    rows = []
    for _, row in table.iterrows():
        name = html.escape(str(row.entry)) + (" <em>(reference)</em>" if row.reference else "")
        if row.status == "ranked":
            cells = "".join(f"<td>{_cell(row, c)}</td>" for c in CRITERIA)
            rows.append(f"<tr><td>{int(row['rank'])}</td><td>{name}</td>{cells}</tr>")
        else:
            rows.append(f"<tr class='out'><td>-</td><td>{name}</td><td colspan='{len(CRITERIA)}'>"
                        f"disqualified: {html.escape(str(row.reason))}</td></tr>")
    return (f"<table class='sim-standings'><tr><th>rank</th><th>strategy</th>{head}</tr>"
            f"{''.join(rows)}</table>")
