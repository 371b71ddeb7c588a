"""The classroom page (sim.app), rendered without a browser: controls that show their values and
rebuild the run at once, frames that stop at the last hour, charts with both runs, errors shown
as a sentence, the follower states of the squares, and the lesson's tournament commands."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

solara = pytest.importorskip("solara")

import ipyvuetify as v  # noqa: E402
import ipywidgets as widgets  # noqa: E402

from sim.apps import page as app  # noqa: E402
from sim.apps.page import ClassroomModel, follower_state  # noqa: E402
from sim.config.compose import make_strategy, settings  # noqa: E402
from sim.errors import SettingError  # noqa: E402
from sim.model.agent_engine import AudienceModel  # noqa: E402
from sim.model.array_engine import GONE, VectorAudience  # noqa: E402
from sim.model.rules import Rules  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "docs" / "classroom.md"
SMALL = dict(followers=300, days=2)
TINY_KNOBS = dict(posts_per_day=1.0, asks=7, burst_day=1, burst_hours=6, reply_share=0.5,
                  reads_per_day=100.0, sensitivity=0.5, seed=0)  # the rest of compose's controls


# --- follower states ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.from_settings(settings())


def follower(**state) -> SimpleNamespace:
    """A follower in a calm, neutral state unless told otherwise."""
    return SimpleNamespace(**({"muted": 0, "annoyance": 0.0, "balance": 0.0, "interest": 0.3,
                               "activity": 0.1, "fickleness": 1.0, "age": 1e5, "mutual": 0, "acknowledged": 0}
                              | state))


def test_follower_state_names_each_state(rules):
    # annoyed: flooding's part of the hazard is over a half, i.e. flooding * annoyance is more
    # than the baseline per online hour, churn * (1 - interest) / (24 * activity) at no credit
    threshold = rules.churn * 0.7 / (24 * 0.1) / rules.flooding
    assert follower_state(follower(), rules) == "neutral"
    assert follower_state(follower(balance=rules.credit_scale), rules) == "engaged"
    assert follower_state(follower(balance=0.99 * rules.credit_scale), rules) == "neutral"
    assert follower_state(follower(annoyance=1.01 * threshold), rules) == "annoyed"
    assert follower_state(follower(annoyance=0.99 * threshold), rules) == "neutral"
    assert follower_state(follower(muted=1), rules) == "muted"
    assert follower_state(follower(gone=True, muted=1), rules) == "gone"


def test_follower_state_order_annoyance_before_credit_mute_before_annoyance(rules):
    assert follower_state(follower(annoyance=10.0, balance=10.0), rules) == "annoyed"
    assert follower_state(follower(annoyance=10.0, muted=1), rules) == "muted"


def test_a_sampled_follower_reads_the_array_engine_and_a_removed_one_is_gone():
    model = ClassroomModel(compare_with="none", **SMALL)
    f = model.sample[0]
    assert f.interest == pytest.approx(float(model.columns["interest"][f.unique_id] + 0.5)
                                       / 65536, rel=1e-9)
    assert f.age == model.hour - model.since[f.unique_id] > 0  # settled ties began before
    model.flags[f.unique_id] |= GONE  # what an unfollow does
    assert follower_state(f, model.rules) == "gone"
    assert app.state_counts(model)["gone"] == 1


def test_the_sample_reads_either_engine(cfg):
    """Class mode's replays sample followers as the page does, on whichever engine ran."""
    settings_ = cfg("strategy=burst", "audience.size=1000", "engine=agents")
    agents = AudienceModel(settings_, make_strategy(settings_))
    sample = app.follower_sample(agents)
    assert len(sample) == app.SAMPLE and all(f.activity > 0 for f in sample)
    assert {app.follower_state(f, agents.rules) for f in sample} <= set(app.STATES)


# --- the model behind the page ------------------------------------------------------------------

def test_controls_reach_the_settings():
    m = ClassroomModel(strategy="steady", compare_with="none", followers=300, days=2,
                       posts_per_day=3.0, asks=5, reply_share=0.2, reads_per_day=50.0,
                       sensitivity=0.3, seed=4)
    cfg = m.cfg
    assert (cfg.audience.size, cfg.days, cfg.seed, cfg.engine, cfg.threads) == (
        300, 2, 4, "vector", 1)
    assert (cfg.strategy.posts_per_day, cfg.strategy.asks, cfg.strategy.reply_share) == (3.0, 5, 0.2)
    assert cfg.audience.attention.reads_per_day == 50.0
    assert cfg.behaviour.reciprocity.sensitivity == 0.3
    assert m.rival is None and m.notes == [] and m.follower_count == 300
    assert m.settings["asks"] == 5 and m.settings["compare_with"] == "none"


def test_the_page_does_not_change_the_run():
    """Same settings, same tables as the plain engine: the page adds no random draws."""
    m = ClassroomModel(strategy="burst", compare_with="burst", burst_day=0, **SMALL)
    cfg = settings("strategy=burst", "strategy.burst_day=0", "audience.size=300", "days=2",
                   "engine=vector", "threads=1")
    plain = VectorAudience(cfg, make_strategy(cfg))
    m.advance(30)
    for _ in range(30):
        plain.step()
    ours = m.datacollector.get_model_vars_dataframe()
    assert ours.equals(plain.datacollector.get_model_vars_dataframe())
    assert ours.equals(m.rival.datacollector.get_model_vars_dataframe())


def test_rival_runs_on_the_same_audience_in_lock_step():
    m = ClassroomModel(strategy="burst", compare_with="silent", **SMALL)
    assert m.rival.followers_start == m.followers_start
    assert [f.unique_id for f in m.sample] == [f.unique_id for f in m.rival.sample]
    assert [f.interest for f in m.sample] == [f.interest for f in m.rival.sample]
    assert m.advance(5) == 5
    assert m.rival.hour == m.hour == 4
    assert m.rival.label == "silent" and m.label == "burst"


def test_both_runs_stop_at_their_last_hour():
    """A frame may ask for more hours than are left: both runs stop at the last one, and the
    charts' tables stay the same length (the page crashed here when only the rival stopped)."""
    m = ClassroomModel(days=2, followers=300)
    assert m.advance(30) == 30
    assert m.advance(1000) == 18  # the frame is cut at the end
    for _ in range(3):
        m.step()  # a step past the end does nothing
    assert m.advance(app.RENDER_EVERY) == 0
    assert m.hour == m.rival.hour == 47 and not m.running and not m.rival.running
    data = app.chart_data(m)
    assert all(len(frame) == 48 and not frame.isna().any().any() for frame in data.values())
    assert app.clock(m) == "day 1, 23:00" and "run is over" in app.progress(m)


def test_a_burst_that_does_not_fit_is_moved_not_refused():
    m = ClassroomModel(strategy="burst", compare_with="burst", days=3, burst_day=20,
                       burst_hours=48, followers=200)
    s = m.cfg.strategy
    assert (s.burst_day, s.burst_hours) == (2, 12)  # the last day, from noon to the end
    assert len(m.notes) == 4 and "day 20" in m.notes[0]  # two notes for each run
    m.advance(1000)
    assert m.hour == 71
    assert sum(m.datacollector.model_vars["asks"]) == 10


def test_burst_settings_are_ignored_by_other_strategies():
    m = ClassroomModel(strategy="steady", compare_with="none", burst_day=50, **SMALL)
    assert "burst_day" not in m.cfg.strategy and m.notes == []


def test_the_replies_control_reaches_only_strategies_that_answer():
    for strategy in app.STRATEGIES:
        m = ClassroomModel(strategy=strategy, compare_with="none", followers=300, days=2,
                           reply_share=0.9)
        own = settings(f"strategy={strategy}").strategy
        answers = own.get("reply_capacity", 0) > 0
        assert app.answers(strategy) == answers
        assert m.cfg.strategy.get("reply_share") == (0.9 if answers else own.get("reply_share"))
    assert app.answers("steady") and not app.answers("burst")


def test_the_page_offers_only_strategies_on_its_budget_and_platform():
    """"Same audience and seed" and "the budget both strategies spend" hold for every strategy
    the page offers: each runs on the main run's platform and days, with the asks control's
    asks (silent, the baseline, asks nothing whatever the budget)."""
    assert {"steady", "burst", "broadcast", "silent"} <= set(app.STRATEGIES)
    assert not set(app.NOT_ON_PAGE) & set(app.STRATEGIES)
    for name in app.STRATEGIES:
        m = ClassroomModel(strategy="steady", compare_with=name, asks=7, posts_per_day=2.0,
                           **SMALL)
        rival = m.rival.cfg
        assert rival.platform == m.cfg.platform and rival.days == m.cfg.days, name
        assert rival.strategy.asks == (0 if name == "silent" else 7), name
        assert rival.strategy.posts_per_day == (0.0 if name == "silent" else 2.0), name


def test_strategies_off_the_page_would_not_follow_its_controls():
    """Why they are off: obama_2011 brings its own platform and asks, and designed's own
    controls are not on the page (with its defaults it is steady)."""
    obama, _ = app.compose("obama_2011", **{**SMALL, **TINY_KNOBS})
    steady, _ = app.compose("steady", **{**SMALL, **TINY_KNOBS})
    assert obama.platform != steady.platform and obama.strategy.asks != TINY_KNOBS["asks"]
    designed, _ = app.compose("designed", **{**SMALL, **TINY_KNOBS})
    assert designed.strategy.ask_plan == "spread"  # steady's plan: nothing on the page moves it


def test_the_controls_start_where_the_settings_do():
    cfg = settings("strategy=burst")
    d = app.DEFAULTS
    assert (d["days"], d["posts_per_day"], d["asks"]) == (cfg.days, cfg.budget.posts_per_day,
                                                          cfg.budget.asks)
    assert (d["burst_day"], d["burst_hours"]) == (cfg.strategy.burst_day, cfg.strategy.burst_hours)
    assert d["reply_share"] == settings("strategy=steady").strategy.reply_share
    assert d["reads_per_day"] == cfg.audience.attention.reads_per_day
    assert d["sensitivity"] == cfg.behaviour.reciprocity.sensitivity
    m = ClassroomModel(compare_with="none", followers=300)
    assert m.cfg.strategy.burst_day == cfg.strategy.burst_day == 20  # day 20 of 30


def test_every_strategy_runs_as_main_and_as_comparison():
    names = app.STRATEGIES
    for main, rival in zip(names, names[1:] + names[:1]):
        m = ClassroomModel(strategy=main, compare_with=rival, followers=200, days=1)
        m.advance(1000)
        assert m.hour == m.rival.hour == 23, (main, rival)
        for draw in app.DRAWINGS.values():
            app.picture(draw(m))


# --- what the page shows ------------------------------------------------------------------------

def test_the_clock_reads_days_and_hours():
    m = ClassroomModel(compare_with="none", **SMALL)
    assert app.clock(m) == "day 0, 00:00 (not started)"
    m.advance(1)
    assert app.clock(m) == "day 0, 00:00" and app.progress(m) == "hour 1 of 48"
    m.advance(37)
    assert app.clock(m) == "day 1, 13:00"


def test_every_chart_shows_both_runs_with_a_legend():
    m = ClassroomModel(**SMALL)
    m.advance(app.RENDER_EVERY)
    data = app.chart_data(m)
    assert set(data) == set(app.CHARTS)
    assert list(data["Followers"].columns) == ["burst", "steady"]
    for title, measures in app.MEASURES.items():
        assert list(data[title].columns) == [(run, x) for run in ("burst", "steady")
                                             for x in measures]
    labels = app.followers_figure(m).axes[0].get_legend_handles_labels()[1]
    assert labels == ["burst", "steady"]
    lines = app.hourly_figure(m, "Unfollows and mutes per hour").axes[0].get_lines()
    assert [line.get_label() for line in lines] == [
        "burst: unfollows", "burst: mutes", "steady: unfollows", "steady: mutes"]
    assert [line.get_linestyle() for line in lines] == ["-", "-", "--", "--"]
    legend = [t.get_text() for t in app.squares_figure(m).legends[0].get_texts()]
    assert all(re.fullmatch(rf"{s}: burst \d+ / steady \d+", t)
               for s, t in zip(app.STATES, legend))


def test_before_the_first_hour_the_axes_cover_the_run():
    m = ClassroomModel(days=10, followers=500)
    followers = app.followers_figure(m).axes[0]
    assert followers.get_xlim() == (0, 10)
    low, high = followers.get_ylim()
    assert low < 0.97 * 500 and high > 500
    for title in app.MEASURES:
        ax = app.hourly_figure(m, title).axes[0]
        assert ax.get_xlim() == (0, 10) and ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 5


def test_the_headline_puts_the_leader_first():
    m = ClassroomModel(**SMALL)
    assert "Press ▶" in app.headline(m)
    m.advance(1000)
    runs = sorted(app.runs(m), key=lambda r: -r.follower_count)
    text = re.sub("<[^>]+>", "", app.headline(m))
    assert text.startswith(f"{runs[0].label} keeps {runs[0].follower_count:,} followers")
    assert f"{runs[1].label} {runs[1].follower_count:,} (" in text
    assert "Actions on asks: " in text


# --- the page, rendered -------------------------------------------------------------------------

def render(model: ClassroomModel):
    reactive = solara.reactive(model)
    with contextlib.redirect_stdout(io.StringIO()):  # the app bar prints outside a kernel
        _, rc = solara.render(solara.AppLayout(children=[app.Classroom(reactive)]),
                              handle_error=False)
    return reactive, rc


def button(rc, label: str):
    return rc.find(v.Btn, children=[label]).widget


def box(rc, label: str):
    """A control's box (solara adds a bad entry's reason to its label)."""
    found = [t for t in rc.find(v.TextField).widgets if t.label == label or t.label.startswith(f"{label} (")]
    assert len(found) == 1, label
    return found[0]


def type_into(rc, label: str, text: str) -> None:
    """What a visitor does: type into a control's box and leave it."""
    widget = box(rc, label)
    widget.v_model = text
    widget.fire_event("focusout", None)


def alerts(rc, kind: str) -> list[str]:
    """The page's messages of one kind: error, warning (notes on settings), info (notices)."""
    return [" ".join(map(str, a.widget.children)) for a in rc.find(v.Alert)
            if a.widget.type == kind]


def html_of(rc, css_class: str) -> str:
    """The HTML of the page's block with this class (the clock, the headline)."""
    blocks = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
              if w.attributes.get("class") == css_class]
    assert len(blocks) == 1
    return blocks[0]


def test_page_has_every_control_with_its_value_and_unit():
    reactive, rc = render(ClassroomModel(**SMALL))
    for knob in app.KNOBS:
        field = box(rc, knob.label)
        assert float(field.v_model) == reactive.value.settings[knob.name]  # shown at all times
        assert field.suffix == knob.unit
    assert len(rc.find(v.Slider)) == len(app.KNOBS)
    selects = {s.widget.label: s.widget.v_model for s in rc.find(v.Select)}
    assert selects == {"Strategy": "burst", "Compare with (same audience and seed)": "steady"}
    for label in ("Reset", "▶ Play", "Step"):
        button(rc, label)
    assert len(rc.find(widgets.Image)) == 4  # three charts and the squares
    assert "not started" in html_of(rc, "sim-clock")
    everything = repr(rc.find(widgets.Widget).widgets)
    for gone in ("Play Interval", "Render Interval", "Use Threads", "Page 0", "Step: "):
        assert gone not in everything  # Mesa's own controls are not on this page
    assert not rc.find(v.Checkbox).widgets and not rc.find(v.Tab).widgets


def test_a_step_runs_one_frame_of_both_runs_and_redraws():
    reactive, rc = render(ClassroomModel(**SMALL))
    pictures = [w.widget.value for w in rc.find(widgets.Image)]
    button(rc, "Step").click()
    model = reactive.value
    assert model.hour == model.rival.hour == app.RENDER_EVERY - 1
    assert len(app.chart_data(model)["Followers"]) == app.RENDER_EVERY
    assert all(a != b for a, b in zip([w.widget.value for w in rc.find(widgets.Image)],
                                      pictures))  # new state, new pictures
    assert html_of(rc, "sim-clock").startswith(f"day 0, {app.RENDER_EVERY - 1}:00")


def test_step_past_the_end_stays_at_the_last_hour():
    reactive, rc = render(ClassroomModel(days=1, followers=300))
    for _ in range(5):
        button(rc, "Step").click()  # a click on a disabled button still arrives here
    model = reactive.value
    assert model.hour == model.rival.hour == 23
    assert button(rc, "Step").disabled and button(rc, "▶ Play").disabled
    assert html_of(rc, "sim-clock").startswith("day 0, 23:00")
    assert alerts(rc, "error") == []


def test_play_runs_to_the_last_hour_and_stops():
    reactive, rc = render(ClassroomModel(days=2, followers=300))
    button(rc, "▶ Play").click()

    def over() -> bool:
        found = rc.find(v.Btn, children=["▶ Play"]).widgets  # "❚❚ Pause" while it plays
        return not reactive.value.running and bool(found) and found[0].disabled

    deadline = time.time() + 120
    while not over() and time.time() < deadline:
        time.sleep(0.1)
    model = reactive.value
    assert model.hour == model.rival.hour == 47
    assert "run is over" in html_of(rc, "sim-clock") and alerts(rc, "error") == []


def test_a_changed_setting_rebuilds_the_run_at_once_and_says_so():
    reactive, rc = render(ClassroomModel(**SMALL))
    button(rc, "Step").click()
    type_into(rc, "Asks over the run", "2")
    model = reactive.value
    assert model.hour == -1 and model.cfg.strategy.asks == 2 == model.rival.cfg.strategy.asks
    assert box(rc, "Asks over the run").v_model == "2"
    assert alerts(rc, "info") == ["Asks over the run is now 2 asks: the run started again from day 0."]
    rc.find(v.Slider)[1].widget.v_model = 1  # the days' slider
    assert reactive.value.cfg.days == 1 and box(rc, "Days").v_model == "1"
    assert reactive.value.hours == 24
    rc.find(v.Select, label="Strategy").widget.v_model = "steady"
    rc.find(v.Select, label="Compare with (same audience and seed)").widget.v_model = "none"
    model = reactive.value
    assert model.label == "steady" and model.rival is None and model.cfg.days == 1
    assert list(app.chart_data(model)["Followers"].columns) == ["steady"]
    for knob in app.KNOBS:  # neither run has a burst: its controls are off
        assert box(rc, knob.label).disabled == knob.burst


def test_a_value_out_of_range_is_brought_into_range_with_a_note():
    reactive, rc = render(ClassroomModel(**SMALL))
    type_into(rc, "Asks over the run", "500")
    assert reactive.value.settings["asks"] == 200 and box(rc, "Asks over the run").v_model == "200"
    assert "500 is outside 0 to 200" in alerts(rc, "info")[0]
    type_into(rc, "Asks over the run", "many")  # not a number: the box says so, nothing runs
    field = box(rc, "Asks over the run")
    assert reactive.value.settings["asks"] == 200 and field.error
    assert field.label == "Asks over the run (Value must be an integer)"


def test_a_burst_that_does_not_fit_shows_a_note_on_the_page():
    reactive, rc = render(ClassroomModel(**SMALL))
    type_into(rc, "Burst day (0 is the first)", "40")
    assert reactive.value.cfg.strategy.burst_day == 1
    assert any("day 40" in text for text in alerts(rc, "warning"))


def test_a_drawing_that_fails_is_a_sentence_and_the_rest_goes_on(monkeypatch):
    def broken(model):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(app.DRAWINGS, "Followers", broken)
    reactive, rc = render(ClassroomModel(**SMALL))
    button(rc, "Step").click()
    assert alerts(rc, "error") == ["Followers: this frame could not be drawn, the run goes on "
                          "(division by zero)."]
    assert len(rc.find(widgets.Image)) == 3  # the other drawings are there
    assert reactive.value.hour == app.RENDER_EVERY - 1


def test_drawings_read_the_run_between_hours_not_during_one(monkeypatch):
    """▶ steps in a thread of its own while a click may redraw: a drawing holds the run's lock
    (without it, a chart read the hourly table halfway through an hour and failed)."""
    held = []

    def drawing(model):
        held.append(model.lock._is_owned())
        return app.followers_figure(model)

    monkeypatch.setitem(app.DRAWINGS, "Followers", drawing)
    monkeypatch.setattr(app, "headline", lambda m: held.append(m.lock._is_owned()) or "")
    render(ClassroomModel(**SMALL))
    assert held == [True, True]


def test_a_step_that_fails_stops_the_run_with_a_sentence(monkeypatch):
    reactive, rc = render(ClassroomModel(**SMALL))

    def broken(self, hours=app.RENDER_EVERY):
        raise RuntimeError("the account is locked")

    monkeypatch.setattr(ClassroomModel, "advance", broken)
    button(rc, "Step").click()
    assert alerts(rc, "error") == ["The run stopped at day 0, 00:00 (not started) "
                          "(the account is locked)."]
    assert len(rc.find(widgets.Image)) == 4


def test_play_steps_the_run_it_found_not_one_built_meanwhile():
    """A change of settings can land between ▶'s check that its run is still the page's and
    the frame it then runs: the frame belongs to the old run, never to the new one."""
    fresh = ClassroomModel(**SMALL)
    changed = threading.Event()

    class Old(ClassroomModel):
        """A run whose ▶ loop meets a change of settings right after finding it current."""

        @property
        def running(self) -> bool:
            if threading.current_thread() is not threading.main_thread() \
                    and not changed.is_set():  # ▶'s loop, its first check: a visitor changes
                changed.set()  # a setting now (rebuild's model.set, from another thread)
                reactive.set(fresh)
            return self.__dict__["_running"]

        @running.setter
        def running(self, value: bool) -> None:
            self.__dict__["_running"] = value

    old = Old(**SMALL)
    reactive, rc = render(old)
    button(rc, "▶ Play").click()
    deadline = time.time() + 60
    while max(old.hour, fresh.hour) < app.RENDER_EVERY - 1 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(3 * app.PAUSE)  # ▶'s loop sees the new run and ends
    assert changed.is_set() and reactive.value is fresh
    assert fresh.hour == -1 and fresh.rival.hour == -1  # the new run waits at hour 0
    assert old.hour == app.RENDER_EVERY - 1  # the frame went to the run ▶ found


def test_settings_the_checks_refuse_keep_the_last_run_and_say_why(monkeypatch):
    reactive, rc = render(ClassroomModel(**SMALL))
    before = reactive.value

    def refuse(cfg):
        raise SettingError("Setting 'audience.size' cannot be run here.")

    monkeypatch.setattr(app, "check", refuse)
    type_into(rc, "Asks over the run", "2")
    assert reactive.value is before and before.settings["asks"] == app.DEFAULTS["asks"]
    assert alerts(rc, "error") == ["These settings could not be run; the page keeps the last run "
                                   "(Setting 'audience.size' cannot be run here.)."]


def test_each_visitor_gets_a_model_of_their_own():
    with contextlib.redirect_stdout(io.StringIO()):
        _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    button(rc, "Step")


def test_python_m_sim_app_starts_solara_on_the_page_module(monkeypatch):
    calls = []
    monkeypatch.setattr(app.os, "execve", lambda path, args, env: calls.append((args, env)))
    monkeypatch.setattr(app.sys, "argv", ["sim.app", "--port", "8766"])
    app.main()
    args, env = calls[0]
    assert args[1:] == ["-m", "solara", "run", "sim.apps.page", "--port", "8766", "--production",
                        "--no-check-version"]  # solara run would otherwise ask PyPI
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"  # nothing leaves the machine


# --- the lesson ----------------------------------------------------------------------------------

def test_the_lesson_describes_this_page():
    text = LESSON.read_text()
    assert f"**Step** runs {app.RENDER_EVERY} hours" in text
    assert f"{app.DEFAULTS['followers']:,} followers" in text
    for gone in ("Render Interval", "Play Interval", "Reset** builds"):
        assert gone not in text


@pytest.mark.integration
@pytest.mark.browser  # no browser, but half a minute: it runs with the lesson's browser tests
def test_the_lessons_tournament_commands_work_as_written(tmp_path):
    """The tournament section's commands, as a student types them, in a fresh folder beside a
    copy of the template (python: this interpreter)."""
    section = LESSON.read_text().split("## Extending the model")[1].split("\n## ")[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2 and "cp experiments/strategy_template.py" in blocks[0]
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "strategy_template.py").write_text(
        (ROOT / "experiments" / "strategy_template.py").read_text())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    for block in blocks:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    assert list((tmp_path / "class_entries" / "results" / "runs").glob("*_MyStrategy"))
    standings = next((tmp_path / "results" / "tournaments").glob("*/standings.csv")).read_text()
    assert "ada" in standings and "steady" in standings and "burst" in standings
