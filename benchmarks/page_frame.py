"""The classroom page at its defaults: how long a frame takes, and what a class will see.

**Frames.** A frame is what Step does and what ▶ repeats: ``RENDER_EVERY`` hours of both runs,
then the page redrawn (the four figures drawn to PNG, the headline and the table). The script
renders the page with solara, as the server does but without a browser, presses Step until
the run ends, and reports the median frame, its two parts (stepping, drawing) and the whole
run. ▶ adds a pause of ``PAUSE`` between frames, and the browser's own time on top; the page's
browser test measures that.

**The lesson's numbers** (``--lesson SEEDS``): the page's model, stepped without drawing, over
several seeds, for the default run and for each of the lesson's "Things to try"; mean and
standard deviation across seeds of what docs/classroom.md quotes.

Run from the repository root::

    python benchmarks/page_frame.py
    python benchmarks/page_frame.py --lesson 8
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

try:
    import sim  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.apps import page as app

# the lesson's runs: what each changes from the page's defaults
LESSON = {
    "the default run": {},
    "1. asks = 2": {"asks": 2},
    "2. burst of 72 hours": {"burst_hours": 72},
    "3. sensitivity 0": {"sensitivity": 0.0},
    "4. reads 200 a day": {"reads_per_day": 200.0},
    "4. reads 400 a day": {"reads_per_day": 400.0},
    "5. steady vs broadcast": {"strategy": "steady", "compare_with": "broadcast"},
}
BURST_DAY = 20  # the default burst: day 20, from 12:00


def frames(settings: dict) -> dict[str, list[float]]:
    """Seconds per frame of the page rendered with solara, pressing Step to the end: the
    whole frame, its stepping, its drawing."""
    import ipyvuetify as v
    import solara

    model = solara.reactive(app.ClassroomModel(**settings))
    with contextlib.redirect_stdout(io.StringIO()):  # solara's app bar prints outside a kernel
        _, rc = solara.render(solara.AppLayout(children=[app.Classroom(model)]),
                              handle_error=False)
    step = rc.find(v.Btn, children=["Step"]).widget
    advance = app.ClassroomModel.advance
    stepping: list[float] = []

    def timed(self, hours=app.RENDER_EVERY):
        start = time.perf_counter()
        try:
            return advance(self, hours)
        finally:
            stepping.append(time.perf_counter() - start)

    app.ClassroomModel.advance = timed
    whole: list[float] = []
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            while model.value.running:
                start = time.perf_counter()
                step.click()
                whole.append(time.perf_counter() - start)
    finally:
        app.ClassroomModel.advance = advance
    return {"frame": whole, "stepping": stepping,
            "drawing": [w - s for w, s in zip(whole, stepping)]}


def lesson_run(settings: dict) -> dict[str, dict[str, float]]:
    """One run of the page's model without drawing: for each run, the numbers the lesson
    quotes."""
    model = app.ClassroomModel(**settings)
    seen = {}
    marks = {"before": 24 * BURST_DAY - 1, "after": 24 * BURST_DAY + 23,  # the burst's day
             "three": 24 * BURST_DAY + 95}  # and the next three
    while model.running:
        model.step()
        for name, hour in marks.items():
            if model.hour == hour:
                seen[name] = {r.label: (r.follower_count, app.totals(r)["actions"],
                                        app.state_counts(r)) for r in app.runs(model)}
    out = {}
    for run in app.runs(model):
        before, after, three = (seen[k][run.label] for k in ("before", "after", "three"))
        out[run.label] = {
            "net change %": app.change(run),
            "actions": app.totals(run)["actions"],
            "burst day: followers lost": before[0] - after[0],
            "burst day: % lost": 100.0 * (before[0] - after[0]) / before[0],
            "next 3 days: followers lost": after[0] - three[0],
            "actions on the burst day": after[1] - before[1],
            f"lost a day, days 0-{BURST_DAY - 1}": (run.followers_start - before[0]) / BURST_DAY,
            f"lost a day, days {BURST_DAY + 4}-29": (three[0] - run.follower_count)
            / (run.cfg.days - BURST_DAY - 4),
            "annoyed squares before": before[2]["annoyed"],
            "annoyed squares after": after[2]["annoyed"],
            "engaged squares before": before[2]["engaged"],
            "engaged squares after": after[2]["engaged"],
        }
    return out


def lesson(seeds: int) -> None:
    for title, changes in LESSON.items():
        settings = {**app.DEFAULTS, **changes}
        per_seed = [lesson_run({**settings, "seed": seed}) for seed in range(seeds)]
        print(f"\n{title} ({settings['strategy']} vs {settings['compare_with']}, "
              f"{settings['followers']:,} followers, {seeds} seeds: mean ± sd)")
        for label in per_seed[0]:
            for measure in per_seed[0][label]:
                values = [run[label][measure] for run in per_seed]
                print(f"  {label:9s} {measure:28s} {statistics.mean(values):9.2f} ± "
                      f"{statistics.stdev(values) if seeds > 1 else 0.0:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lesson", type=int, metavar="SEEDS", default=0,
                        help="measure the lesson's numbers over this many seeds instead")
    args = parser.parse_args()
    if args.lesson:
        lesson(args.lesson)
        return
    app.warm_up()  # numba compiles the hour once; not part of any frame
    settings = dict(app.DEFAULTS)
    times = frames(settings)
    print(f"The page at its defaults: {settings['strategy']} vs {settings['compare_with']}, "
          f"{settings['followers']:,} followers, {settings['days']} days, "
          f"{app.RENDER_EVERY} hours a frame ({len(times['frame'])} frames)")
    for part in ("frame", "stepping", "drawing"):
        print(f"  {part:9s} median {statistics.median(times[part]):.3f} s, "
              f"max {max(times[part]):.3f} s")
    total = sum(times["frame"])
    print(f"  the whole run: {total:.1f} s of frames; with ▶'s pauses "
          f"{total + app.PAUSE * len(times['frame']):.1f} s (browser time not included)")


if __name__ == "__main__":
    main()
