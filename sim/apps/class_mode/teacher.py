"""The teacher's page in class mode: the submissions as they arrive, the tournament with its
live standings and figure, and the replay of the top and bottom strategies.

A solara page that only shows the class (:class:`sim.apps.class_mode.classroom.Classroom`): the work
runs in the class's threads, so a reload loses nothing. The figures are drawn with matplotlib
on the server and the tables are plain HTML: nothing is fetched from the internet.
"""

from __future__ import annotations

import html
import threading

import solara

from sim.apps.class_mode.classroom import Classroom, current
from sim.apps.class_mode.standings import table_html

STYLE = """
<style>
table.sim-class { border-collapse: collapse; font-size: 14px; margin: 4px 0 12px; }
table.sim-class td, table.sim-class th { border-bottom: 1px solid #ddd; padding: 3px 10px;
  text-align: left; vertical-align: top; }
table.sim-standings { border-collapse: collapse; font-size: 15px; margin: 4px 0 12px; }
table.sim-standings td, table.sim-standings th { border-bottom: 1px solid #ddd;
  padding: 4px 12px; text-align: left; }
table.sim-standings tr.out td { color: #a00; }
</style>
"""


def submissions_html(classroom: Classroom) -> str:
    rows = "".join(
        f"<tr><td>{i}</td><td>{html.escape(r.submission.name)}</td>"
        f"<td>{html.escape(r.submission.describe())}</td><td>{r.submitted[11:]}</td></tr>"
        for i, r in enumerate(classroom.store.records(), start=1))
    return (f"{STYLE}<table class='sim-class sim-submissions'><tr><th></th><th>name</th>"
            f"<th>strategy</th><th>received</th></tr>{rows}</table>")


def progress_text(classroom: Classroom) -> str:
    p, waiting = classroom.progress, len(classroom.store)
    if p.error:
        return p.error
    if p.running:
        return (f"Running: {p.done} of {p.total or '...'} strategies done "
                f"({len(classroom.seeds)} seeds each), {p.seconds:.0f} s")
    if p.store_version < 0:
        return (f"{waiting} submission{'s' if waiting != 1 else ''} so far. The tournament runs "
                f"them with steady and burst as references.")
    new = classroom.store.version - p.store_version
    again = f" Submissions changed since ({new}): run it again." if new > 0 else ""
    return (f"Ran {p.submissions} submissions and the references in {p.seconds:.1f} s."
            f"{again}")


def set_auto(classroom: Classroom, on: bool) -> None:
    classroom.auto = on
    if on:
        classroom.run_tournament()
    classroom.changed()


@solara.component
def Page():
    classroom = current()
    version, set_version = solara.use_state(classroom.version)

    def watch(cancel: threading.Event) -> None:
        seen = version
        while not cancel.is_set():
            seen = classroom.wait(seen, timeout=1.0)
            set_version(seen)

    solara.use_thread(watch, dependencies=[], intrusive_cancel=False)
    rules, base, p = classroom.rules, classroom.base, classroom.progress
    with solara.Column(style={"padding": "12px 24px", "max-width": "1300px"}):
        solara.HTML(tag="h2", unsafe_innerHTML="Class mode: a live tournament")
        solara.HTML(tag="p", unsafe_innerHTML=(
            f"Students open <b class='student-address'>{html.escape(classroom.student_address)}"
            f"</b> on the school network. Budget: up to {rules.budget_words()}. Audience: "
            f"{base.audience.size:,} followers; {len(classroom.seeds)} seeds."))
        count = len(classroom.store)
        solara.HTML(tag="h3", unsafe_innerHTML=f"Submissions: <span class='count'>{count}</span>")
        solara.HTML(tag="div", unsafe_innerHTML=submissions_html(classroom))
        records = classroom.store.records()
        if records:
            with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
                solara.Text("Remove a submission:")
                for r in records:
                    solara.Button(f"remove {r.submission.name}", small=True, text=True,
                                  classes=["sim-remove"],
                                  on_click=lambda s=r.student: classroom.remove(s))
        with solara.Row(style={"align-items": "center"}):
            solara.Button("Run the tournament", color="primary",
                          disabled=p.running or classroom.replaying,
                          on_click=lambda: classroom.run_tournament())
            solara.Checkbox(label="run again as submissions arrive", value=classroom.auto,
                            on_value=lambda on: set_auto(classroom, on))
            solara.HTML(tag="span", unsafe_innerHTML=html.escape(progress_text(classroom)),
                        classes=["sim-progress"])
        if p.running:
            solara.ProgressLinear(value=100 * p.done / max(p.total, 1))
        table = classroom.live if p.running and classroom.live is not None else \
            classroom.standings
        if table is not None:
            solara.HTML(tag="h3", unsafe_innerHTML="Standings")
            solara.HTML(tag="p", unsafe_innerHTML=(
                "Mean over seeds [95 % interval]; rank 1 is best, overall by the mean of the "
                "three ranks. Followers kept is the net change in followers, %."))
            solara.HTML(tag="div", unsafe_innerHTML=STYLE + table_html(table))
            if classroom.standings_png and not p.running:
                solara.Image(classroom.standings_png, width="100%")
            if not p.running:
                solara.HTML(tag="h3", unsafe_innerHTML="Replay: the top and the bottom")
                with solara.Row():
                    solara.Button("Replay the top and the bottom side by side",
                                  disabled=classroom.replaying,
                                  on_click=lambda: classroom.replay())
                if classroom.replay_title:
                    solara.HTML(tag="p", unsafe_innerHTML=html.escape(classroom.replay_title),
                                classes=["sim-replay-title"])
                if classroom.replay_png:
                    solara.Image(classroom.replay_png, width="100%")
