"""The classroom page (sim.app), rendered without a browser: controls, plots, stepping,
switching strategy and resetting, and the follower states of the grid."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

solara = pytest.importorskip("solara")

import ipyvuetify as v  # noqa: E402
import ipywidgets as widgets  # noqa: E402

from sim.apps import page as app  # noqa: E402
from sim.apps.page import ClassroomModel, follower_state  # noqa: E402
from sim.config.compose import make_strategy, settings  # noqa: E402
from sim.model.agent_engine import AudienceModel  # noqa: E402
from sim.model.rules import Rules  # noqa: E402

SMALL = dict(followers=300, days=2)


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


def test_a_removed_follower_is_gone(rules):
    model = ClassroomModel(compare_with="none", **SMALL)
    f = model.sample[0]
    f.remove()  # what an unfollow does
    assert follower_state(f, model.rules) == "gone"
    assert app.state_counts(model)["gone"] == 1


# --- the model behind the page ------------------------------------------------------------------

def test_controls_reach_the_settings():
    m = ClassroomModel(strategy="steady", compare_with="none", followers=300, days=2,
                       posts_per_day=3.0, asks=5, reply_share=0.2, reads_per_day=50.0,
                       sensitivity=0.3, seed=4)
    cfg = m.cfg
    assert (cfg.audience.size, cfg.days, cfg.seed, cfg.engine) == (300, 2, 4, "agents")
    assert (cfg.strategy.posts_per_day, cfg.strategy.asks, cfg.strategy.reply_share) == (3.0, 5, 0.2)
    assert cfg.audience.attention.reads_per_day == 50.0
    assert cfg.behaviour.reciprocity.sensitivity == 0.3
    assert m.rival is None and m.notes == [] and m.follower_count == 300


def test_the_page_does_not_change_the_run():
    """Same settings, same tables as the plain model: the page adds no random draws."""
    m = ClassroomModel(strategy="burst", compare_with="burst", burst_day=0, **SMALL)
    cfg = settings("strategy=burst", "strategy.burst_day=0", "audience.size=300", "days=2",
                   "engine=agents", "strategy.reply_share=0.5")
    plain = AudienceModel(cfg, make_strategy(cfg))
    for _ in range(30):
        m.step()
        plain.step()
    ours = m.datacollector.get_model_vars_dataframe()
    assert ours.equals(plain.datacollector.get_model_vars_dataframe())
    assert ours.equals(m.rival.datacollector.get_model_vars_dataframe())


def test_rival_runs_on_the_same_audience_in_lock_step():
    m = ClassroomModel(strategy="burst", compare_with="silent", **SMALL)
    assert m.rival.followers_start == m.followers_start
    assert [f.unique_id for f in m.sample] == [f.unique_id for f in m.rival.sample]
    assert [f.interest for f in m.sample] == [f.interest for f in m.rival.sample]
    for _ in range(5):
        m.step()
    assert m.rival.hour == m.hour == 4
    assert m.rival.label == "silent" and m.label == "burst"


def test_a_burst_that_does_not_fit_is_moved_not_refused():
    m = ClassroomModel(strategy="burst", compare_with="burst", days=3, burst_day=20,
                       burst_hours=48, followers=200)
    s = m.cfg.strategy
    assert (s.burst_day, s.burst_hours) == (2, 12)  # the last day, from noon to the end
    assert len(m.notes) == 4 and "day 20" in m.notes[0]  # two notes for each run
    while m.running:
        m.step()
    assert m.hour == 71
    assert sum(m.datacollector.model_vars["asks"]) == 10


def test_burst_settings_are_ignored_by_other_strategies():
    m = ClassroomModel(strategy="steady", compare_with="none", burst_day=50, **SMALL)
    assert "burst_day" not in m.cfg.strategy and m.notes == []


# --- the page, rendered -------------------------------------------------------------------------

def render(model: ClassroomModel):
    reactive = solara.reactive(model)
    _, rc = solara.render(solara.AppLayout(children=[app.Classroom(reactive)]),
                          handle_error=False)
    return reactive, rc


def charts(reactive) -> dict:
    """What the page's charts draw, by title."""
    return app.chart_data(reactive.value)


def button(rc, label: str):
    return rc.find(v.Btn, children=[label]).widget


def test_page_has_the_controls_and_plots():
    reactive, rc = render(ClassroomModel(**SMALL))
    sliders = {s.widget.label for s in rc.find(v.Slider)}
    for param in app.MODEL_PARAMS.values():
        label = param.label if isinstance(param, app.Slider) else param["label"]
        assert label in sliders | {s.widget.label for s in rc.find(v.Select)}
    for label in ("Reset", "Step"):
        button(rc, label)
    assert set(charts(reactive)) == {"Followers", "Unfollows and mutes per hour",
                                     "Engagements and actions per hour"}
    assert len(rc.find(widgets.Image)) == 4  # three charts and the grid of followers


def test_stepping_updates_plots_grid_and_counts():
    reactive, rc = render(ClassroomModel(**SMALL))
    before = charts(reactive)
    pictures = [w.widget.value for w in rc.find(widgets.Image)]
    button(rc, "Step").click()
    model = reactive.value
    assert model.steps == app.RENDER_EVERY and model.rival.steps == app.RENDER_EVERY
    after = charts(reactive)
    followers = after["Followers"]
    assert len(followers) == app.RENDER_EVERY  # one row per hour ...
    assert list(followers.columns) == ["burst", "steady"]  # ... with both runs
    per_hour = after["Unfollows and mutes per hour"]
    assert len(per_hour) == app.RENDER_EVERY > len(before["Unfollows and mutes per hour"])
    now = [w.widget.value for w in rc.find(widgets.Image)]
    assert all(a != b for a, b in zip(now, pictures))  # new state, new pictures
    rc.find(v.Html, children=[f"Step: {app.RENDER_EVERY}"]).assert_single()


def test_switching_strategy_and_resetting_builds_a_new_run():
    reactive, rc = render(ClassroomModel(**SMALL))
    button(rc, "Step").click()
    rc.find(v.Select, label="Strategy").widget.v_model = "steady"
    rc.find(v.Select, label="Compare with (same audience and seed)").widget.v_model = "none"
    rc.find(v.Slider, label="Followers at the start").widget.v_model = 300
    rc.find(v.Slider, label="Days").widget.v_model = 2
    button(rc, "Reset").click()
    model = reactive.value
    assert model.label == "steady" and model.rival is None and model.steps == 0
    assert model.cfg.audience.size == 300 and model.cfg.days == 2
    assert list(charts(reactive)["Followers"].columns) == ["steady"]
    button(rc, "Step").click()
    assert reactive.value.steps == app.RENDER_EVERY


def test_a_burst_that_does_not_fit_shows_a_note_on_the_page():
    reactive, rc = render(ClassroomModel(**SMALL))
    rc.find(v.Slider, label="Days").widget.v_model = 2
    rc.find(v.Slider, label="Followers at the start").widget.v_model = 200
    rc.find(v.Slider, label="Burst day (burst only)").widget.v_model = 40
    button(rc, "Reset").click()
    assert reactive.value.cfg.strategy.burst_day == 1
    assert rc.find(v.Alert).widgets  # solara.Warning
    button(rc, "Step").click()


def test_each_visitor_gets_a_model_of_their_own():
    _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    button(rc, "Step")


def test_python_m_sim_app_starts_solara_on_the_page_module(monkeypatch):
    calls = []
    monkeypatch.setattr(app.os, "execve", lambda path, args, env: calls.append((args, env)))
    monkeypatch.setattr(app.sys, "argv", ["sim.app", "--port", "8766"])
    app.main()
    args, env = calls[0]
    assert args[1:] == ["-m", "solara", "run", "sim.apps.page", "--port", "8766", "--production"]
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"  # nothing leaves the machine
