"""Class mode (python -m sim.app --class): what a student submits is data, judged against the
class's budget and refused with a reason; the store keeps each student's latest submission on
disk; the designed strategy spends exactly its budget; the class tournament ranks the
submissions with steady and burst, with intervals; and 40 students submitting at once to a
real server (the load test, marked integration) all get in.

The student's page is driven in this process through its ASGI app (no server); the
tests that start one are marked integration.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urljoin

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("solara")

from sim import app as entry  # noqa: E402
from sim.apps import page as page_module  # noqa: E402
from sim.apps import tournament  # noqa: E402
from sim.apps.class_mode import classroom as classroom_module  # noqa: E402
from sim.apps.class_mode import server as class_mode  # noqa: E402
from sim.apps.class_mode import student  # noqa: E402
from sim.apps.class_mode.classroom import Classroom  # noqa: E402
from sim.apps.class_mode.standings import top_and_bottom  # noqa: E402
from sim.apps.class_mode.store import Store, new_student  # noqa: E402
from sim.apps.class_mode.submission import CONTROLS, ClassRules, Refused, Submission, read  # noqa: E402
from sim.config.compose import make_strategy  # noqa: E402
from sim.config.compose import settings as compose  # noqa: E402
from sim.model.strategies import ASK_PLANS, BurstsDoNotFit, Designed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RULES = ClassRules(posts_per_day=1.0, asks=10, days=30, reply_capacity=20)
SMALL = ["audience.size=200", "days=4"]  # a class tournament in a few seconds

GOOD = {"name": "Ada", "posts_per_day": "1", "asks": "10", "ask_plan": "bursts", "ask_hour": "12",
        "bursts": "2", "first_burst_day": "20", "days_between": "3", "burst_length": "6",
        "value_in_bursts": "50", "reply_share": "40"}


def form(**changes) -> dict:
    return {k: v for k, v in {**GOOD, **changes}.items() if v is not None}


def small(**changes) -> dict:
    """A form for the 4-day class of SMALL."""
    return form(**{"first_burst_day": "1", "days_between": "1", **changes})


# --- what a student may submit ------------------------------------------------------------------

def test_a_good_form_is_a_submission_with_shares_as_fractions():
    s = read(GOOD, RULES)
    assert s == Submission("Ada", 1.0, 10, "bursts", 12, 20, 2, 3, 6, 0.5, 0.4)
    assert "2 bursts of 6 h from day 20" in s.describe()
    assert s.settings(RULES)["reply_capacity"] == 20


@pytest.mark.parametrize("changes, field, says", [
    ({"posts_per_day": "3"}, "posts_per_day",
     "Value posts per day = 3 is over the class budget: give a number from 0 to 1 (the class budget)."),
    ({"asks": "11"}, "asks", "Asks over the run = 11 is over the class budget: give a whole "
                             "number from 0 to 10 (the class budget)."),
    ({"asks": "-1"}, "asks", "Asks over the run = -1 is not allowed: give a whole number from 0"),
    ({"asks": "2.5"}, "asks", "Asks over the run = 2.5 is not a whole number"),
    ({"asks": "ten"}, "asks", "Asks over the run = 'ten' is not a number"),
    ({"posts_per_day": "nan"}, "posts_per_day", "Value posts per day = 'nan' is not a number"),
    ({"asks": None}, "asks", "Asks over the run is missing: give a whole number from 0 to 10"),
    ({"name": "  "}, "name", "Name is empty"),
    ({"name": "x" * 25}, "name", "is too long (25 characters): give at most 24."),
    ({"name": "<b>Eve</b>"}, "name", "Name '<b>Eve</b>' is not allowed: use letters, digits"),
    ({"name": "Steady"}, "name", "Name 'Steady' is taken by a reference strategy"),
    ({"ask_plan": "sometimes"}, "ask_plan",
     "When the asks go out = 'sometimes' is not allowed: give one of 'spread', 'daily', 'bursts'."),
    ({"reply_share": "150"}, "reply_share",
     "Replies answered = 150 % is not allowed: give a number from 0 to 100 (%)."),
    ({"ask_hour": "24"}, "ask_hour", "= 24:00 is not allowed: give a whole number from 0 to 23."),
    ({"first_burst_day": "30"}, "first_burst_day", "give a whole number from 0 to 29."),
    ({"first_burst_day": "29", "bursts": "1", "burst_length": "48"}, "burst_length",
     "Hours each burst lasts = 48 h does not fit: a burst from day 29, 12:00 can last at most "
     "12 hours in a 30-day run; give at most 12 h."),
    ({"days_between": "1", "burst_length": "30"}, "burst_length",
     "so a burst of 30 hours would run into the next; give at most 24 h."),
    ({"bursts": "5"}, "bursts", "Number of bursts = 5 does not fit: from day 20, 3 day(s) "
                                "apart, at most 4 end within the 30-day run; give at most 4."),
    ({"name": "_Eve"}, "name", "Name '_Eve' is not allowed"),  # a legend leaves "_..." out
    ({"name": "-Eve"}, "name", "Name '-Eve' is not allowed"),
    ({"reply_share": "50%%"}, "reply_share", "Replies answered = '50%' is not a number"),
])
def test_a_bad_form_is_refused_in_one_sentence_naming_the_control(changes, field, says):
    with pytest.raises(Refused) as refused:
        read(form(**changes), RULES)
    assert refused.value.field == field
    message = str(refused.value)
    assert says in message
    assert message.endswith(".") and "\n" not in message


def test_controls_the_plan_does_not_use_are_not_judged():
    s = read(form(ask_plan="spread", bursts="lots", ask_hour=""), RULES)
    assert (s.ask_plan, s.bursts, s.ask_hour) == ("spread", 1, 12)


def test_a_decimal_comma_is_read_and_names_are_tidied():
    s = read(form(posts_per_day="0,5", name="  Ada   Lovelace "), RULES)
    assert (s.posts_per_day, s.name) == (0.5, "Ada Lovelace")
    assert read(form(name="Zoë"), RULES).name == "Zoë"
    assert read(form(name="9 lives_x"), RULES).name == "9 lives_x"


def test_a_per_cent_sign_is_read_for_per_cent_controls_only():
    s = read(form(reply_share="40%", value_in_bursts=" 50 % "), RULES)
    assert (s.reply_share, s.value_in_bursts) == (0.4, 0.5)
    with pytest.raises(Refused, match="Asks over the run = '5%' is not a number"):
        read(form(asks="5%"), RULES)


def test_the_budget_is_the_class_settings():
    rules = ClassRules.from_settings(compose("budget.asks=3", "budget.posts_per_day=2", "days=5"))
    assert rules == ClassRules(2.0, 3, 5, 20)
    assert read(form(asks="3", posts_per_day="2", first_burst_day="0"), rules).asks == 3
    with pytest.raises(Refused, match="Asks over the run = 4 is over the class budget"):
        read(form(asks="4", first_burst_day="0"), rules)


@settings(max_examples=60)
@given(values=st.fixed_dictionaries({
    "posts_per_day": st.sampled_from(["0", "0.5", "1", "1.5", "-1", "x"]),
    "asks": st.sampled_from(["0", "3", "10", "11", "-2"]),
    "ask_plan": st.sampled_from([*ASK_PLANS, "never"]),
    "ask_hour": st.integers(-1, 24).map(str),
    "bursts": st.integers(0, 12).map(str),
    "first_burst_day": st.integers(-1, 31).map(str),
    "days_between": st.integers(0, 12).map(str),
    "burst_length": st.integers(0, 80).map(str),
    "value_in_bursts": st.sampled_from(["0", "50", "100", "101"]),
    "reply_share": st.sampled_from(["0", "40", "100", "-5"]),
}))
def test_whatever_a_form_says_it_is_refused_or_runs_within_the_budget(values):
    try:
        s = read({"name": "Ada", **values}, RULES)
    except Refused as refused:
        label = next((c.label for c in CONTROLS if c.key == refused.field), "")
        assert label and str(refused).startswith(label)
        return
    strategy = s.strategy(RULES)
    strategy.start(RULES.hours)
    assert sum(strategy.value_schedule.values()) <= round(RULES.posts_per_day * RULES.days)
    assert sum(strategy.ask_schedule.values()) == s.asks <= RULES.asks
    assert all(0 <= h < RULES.hours for h in [*strategy.value_schedule, *strategy.ask_schedule])


# --- the designed strategy ----------------------------------------------------------------------

def schedules(cfg) -> tuple[dict, dict]:
    strategy = make_strategy(cfg)
    strategy.start(cfg.days * 24)
    return strategy.value_schedule, strategy.ask_schedule


def test_designed_with_its_defaults_is_steady_and_with_one_burst_is_burst():
    assert schedules(compose("strategy=designed")) == schedules(compose("strategy=steady"))
    designed = compose("strategy=designed", "strategy.ask_plan=bursts",
                       "strategy.value_in_bursts=0.75", "strategy.reply_share=0")
    assert schedules(designed) == schedules(compose("strategy=burst"))


@settings(max_examples=200)
@given(ppd=st.floats(0, 4), asks=st.integers(0, 60), plan=st.sampled_from(ASK_PLANS),
       hour=st.integers(0, 23), first=st.integers(0, 40), bursts=st.integers(1, 40),
       gap=st.integers(1, 10), length=st.integers(1, 100), share=st.floats(0, 1),
       days=st.integers(1, 30))
def test_designed_fits_its_bursts_to_the_run_then_spends_its_budget_exactly(
        ppd, asks, plan, hour, first, bursts, gap, length, share, days):
    values = dict(ask_plan=plan, ask_hour=hour, first_burst_day=first, bursts=bursts,
                  days_between=gap, burst_length=length, value_in_bursts=share)
    hours = days * 24
    Designed.fit_settings(values, hours)
    Designed.check_settings(values, hours)  # what fit_settings made is accepted
    strategy = Designed(posts_per_day=ppd, asks=asks, reply_share=0.5, reply_capacity=20, **values)
    strategy.start(hours)
    assert sum(strategy.value_schedule.values()) == round(ppd * days)
    assert sum(strategy.ask_schedule.values()) == asks
    assert all(0 <= h < hours for h in [*strategy.value_schedule, *strategy.ask_schedule])
    if plan == "daily":
        assert {h % 24 for h in strategy.ask_schedule} <= {hour}
    if plan == "bursts":
        starts = Designed.burst_starts(values)
        assert all(any(s <= h < s + values["burst_length"] for s in starts)
                   for h in strategy.ask_schedule)


def test_designed_runs_from_the_command_line_and_refuses_bursts_that_do_not_fit(tmp_path, sim_cli):
    ok = sim_cli("strategy=designed", "strategy.ask_plan=daily", "strategy.ask_hour=18",
                 "audience.size=150", "days=3", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "strategy=designed" in ok.stdout
    bad = sim_cli("strategy=designed", "strategy.ask_plan=bursts", "strategy.bursts=9",
                  "days=5", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "Setting 'strategy.bursts' = 9 is not allowed" in bad.stderr


@pytest.mark.parametrize("values, setting, says", [
    # one burst too late or too long: the setting at fault, never 'bursts' = 1
    ({"first_burst_day": 9}, "first_burst_day",
     "Setting 'strategy.first_burst_day' = 9 is not allowed: the run has 5 days (0 to 4). "
     "Allowed: 0 <= value <= 4."),
    ({"first_burst_day": 4, "burst_length": 20}, "burst_length",
     "Setting 'strategy.burst_length' = 20 is not allowed: a burst from day 4, 12:00 can last "
     "at most 12 hours in a 5-day run. Allowed: 1 <= value <= 12."),
    ({"bursts": 3, "burst_length": 30}, "burst_length", "Allowed: 1 <= value <= 24."),
    ({"bursts": 4, "first_burst_day": 2}, "bursts", "Setting 'strategy.bursts' = 4 is not "
                                                    "allowed: from day 2, 1 day(s) apart, at "
                                                    "most 3 end within the 5-day run."),
])
def test_designed_names_the_setting_that_keeps_its_bursts_from_fitting(values, setting, says):
    settings_ = dict(ask_plan="bursts", ask_hour=12, first_burst_day=0, bursts=1,
                     days_between=1, burst_length=6, value_in_bursts=0.0) | values
    with pytest.raises(BurstsDoNotFit) as refused:
        Designed.check_settings(settings_, 5 * 24)
    assert refused.value.setting == setting and says in str(refused.value)
    assert refused.value.value == values[setting]


def test_the_command_to_try_it_at_home_runs_with_the_class_settings(tmp_path, sim_cli):
    overrides = ["audience.size=100", "days=35", "budget.asks=4", "engine=vector"]
    submission = read(form(asks="4", first_burst_day="32", bursts="1", burst_length="10",
                           reply_share="50 %"), ClassRules.from_settings(compose(*overrides)))
    line = submission.command_line(overrides, seed=3)
    assert line.startswith("python -m sim audience.size=100 days=35 budget.asks=4 "
                           "engine=vector strategy=designed ") and line.endswith(" seed=3")
    # a burst on day 32: past the end of python -m sim's own 30 days, within the class's 35
    done = sim_cli(*line.split()[3:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    alone = sim_cli(*submission.command_line().split()[3:], cwd=tmp_path)
    assert alone.returncode == 2 and "strategy.first_burst_day" in alone.stderr


# --- the store ---------------------------------------------------------------------------------

def test_the_store_keeps_each_students_latest_submission_on_disk(tmp_path):
    store = Store(tmp_path, capacity=5)
    ada, bob = new_student(), new_student()
    store.put(ada, read(GOOD, RULES))
    store.put(bob, read(form(name="Bob"), RULES))
    first = store.get(ada).first
    store.put(ada, read(form(asks="3"), RULES))  # submitting again replaces it ...
    assert store.get(ada).submission.asks == 3
    assert store.get(ada).first == first  # ... and keeps its place in the list
    assert [r.submission.name for r in store.records()] == ["Ada", "Bob"]
    saved = json.loads((tmp_path / f"{ada}.json").read_text())
    assert saved["submission"]["asks"] == 3 and saved["student"] == ada
    again = Store(tmp_path)  # a server started again on the same folder
    assert again.records() == store.records()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{ada}.json", f"{bob}.json"])


def test_a_failed_write_leaves_the_earlier_submission_whole(tmp_path, monkeypatch):
    store = Store(tmp_path)
    ada = new_student()
    store.put(ada, read(GOOD, RULES))
    before = (tmp_path / f"{ada}.json").read_text()

    def half_then_crash(self, text, *args, **kwargs):
        with open(self, "w") as out:
            out.write(text[: len(text) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_crash)
    with pytest.raises(OSError):
        store.put(ada, read(form(asks="2"), RULES))
    monkeypatch.undo()
    assert (tmp_path / f"{ada}.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == [f"{ada}.json"]  # no temporary file left
    assert store.get(ada).submission.asks == 10


def test_the_store_skips_files_it_cannot_read(tmp_path, caplog):
    good = new_student()
    Store(tmp_path).put(good, read(GOOD, RULES))
    (tmp_path / f"{new_student()}.json").write_text("{not json")
    (tmp_path / ".x.json.123.tmp").write_text("half")
    assert [r.student for r in Store(tmp_path).records()] == [good]
    assert "cannot be read" in caplog.text


def test_the_store_refuses_a_second_student_with_a_name_and_a_full_class(tmp_path):
    store = Store(tmp_path, capacity=2)
    ada, bob, cleo = new_student(), new_student(), new_student()
    store.put(ada, read(GOOD, RULES))
    with pytest.raises(Refused, match="Name 'ADA' is taken by another student") as refused:
        store.put(bob, read(form(name="ADA"), RULES))
    assert refused.value.field == "name"
    store.put(ada, read(GOOD, RULES))  # one's own name is fine
    store.put(bob, read(form(name="Bob"), RULES))
    with pytest.raises(Refused, match="The class is full: it takes 2 strategies"):
        store.put(cleo, read(form(name="Cleo"), RULES))
    store.put(bob, read(form(name="Bob", asks="1"), RULES))  # a student already in may change
    with pytest.raises(Refused, match="no valid student key"):
        store.put("../../etc/passwd", read(form(name="Eve"), RULES))


# --- the student's page, in this process ---------------------------------------------------------

def call(app, method: str, path: str, body: dict | bytes | None = None,
         cookie: str | None = None, client: tuple = ("127.0.0.1", 50000),
         server: tuple = ("127.0.0.1", 80)):
    """One HTTP request to an ASGI app: (status, headers, text)."""
    raw = body if isinstance(body, bytes) else urlencode(body or {}).encode()
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    if cookie:
        headers.append((b"cookie", f"{student.COOKIE}={cookie}".encode()))
    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": query.encode(), "headers": headers, "client": client,
             "server": server}
    incoming = [{"type": "http.request", "body": raw, "more_body": False}]
    sent = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, text.decode()


def cookie_of(headers: dict) -> str:
    return re.search(rf"{student.COOKIE}=([\w-]+)", headers["set-cookie"]).group(1)


@pytest.fixture
def a_class(tmp_path):
    """A small class, served by this process's pages."""
    base = class_mode.class_settings(SMALL)
    room = Classroom(base, tmp_path / "class", [0, 1, 2], SMALL, capacity=10)
    saved, classroom_module.CURRENT = classroom_module.CURRENT, room
    yield room
    classroom_module.CURRENT = saved


def test_a_student_who_comes_back_sees_and_keeps_their_submission(a_class):
    status, headers, page = call(student.app, "GET", "/student")
    assert status == 200 and "Design your posting strategy" in page
    me = cookie_of(headers)
    assert "up to 1 value post a day and 10 asks over 4 days" in page
    status, headers, _ = call(student.app, "POST", "/student", small(), cookie=me)
    assert status == 303 and headers["location"] == "/student?sent=1"
    _, _, page = call(student.app, "GET", "/student?sent=1", cookie=me)
    assert "Thank you: your strategy is in." in page and "‘Ada’" in page
    _, _, page = call(student.app, "GET", "/student", cookie=me)  # the page dropped, came back
    assert "Your submission:" in page and 'value="Ada"' in page and "value='40'" in page
    assert "strategy.ask_plan=bursts" in page  # how to run it at home, with the class's
    assert "python -m sim audience.size=200 days=4 engine=vector strategy=designed" in page
    assert "seed=0</code>" in page
    assert 'maxlength="24"' in page and "1 to 24 letters" in page
    _, headers, page = call(student.app, "GET", "/student")  # another device: a new student
    assert "Your submission" not in page and cookie_of(headers) != me
    assert len(a_class.store) == 1


def test_a_refusal_comes_back_with_its_reason_and_the_values_as_typed(a_class):
    _, headers, _ = call(student.app, "GET", "/student")
    status, _, page = call(student.app, "POST", "/student",
                           small(name="<b>Eve</b>", asks="99"), cookie=cookie_of(headers))
    assert status == 200  # a page that says why, not an error
    assert "Not submitted. Name &#x27;&lt;b&gt;Eve&lt;/b&gt;&#x27; is not allowed" in page
    assert "<b>Eve</b>" not in page  # whatever is typed is shown as text
    assert "value='99'" in page and len(a_class.store) == 0
    status, _, page = call(student.app, "POST", "/student", small(asks="99"),
                           cookie=cookie_of(headers))
    assert "Asks over the run = 99 is over the class budget" in page
    assert "<label class='bad'>Asks over the run" in page and "aria-invalid=true" in page
    status, _, page = call(student.app, "POST", "/student", b"name=" + b"x" * 9000)
    assert status == 200 and "The form is too large" in page


def test_a_submission_the_disk_cannot_keep_is_refused_in_one_sentence(a_class, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.apps.class_mode.store.write_whole", full)
    _, headers, _ = call(student.app, "GET", "/student")
    status, _, page = call(student.app, "POST", "/student", small(), cookie=cookie_of(headers))
    assert status == 200 and "Traceback" not in page
    assert ("Not submitted. The teacher&#x27;s machine could not save it: No space left on "
            "device. Try again in a moment.") in page
    assert len(a_class.store) == 0


def test_only_this_machine_opens_the_teachers_page(a_class):
    teacher = []

    async def solara_app(scope, receive, send):
        teacher.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"teacher"})

    app = class_mode.ClassApp(solara_app)
    assert call(app, "GET", "/")[2] == "teacher"
    status, headers, _ = call(app, "GET", "/", client=("192.168.1.20", 4000))
    assert status == 307 and headers["location"] == "/student"  # a student at the bare address
    status, _, text = call(app, "GET", "/static/main.js", client=("192.168.1.20", 4000))
    assert status == 403 and "Students: open /student" in text
    assert call(app, "GET", "/student", client=("192.168.1.20", 4000))[0] == 200
    assert call(app, "GET", "/", client=("::ffff:127.0.0.1", 4000))[2] == "teacher"
    assert call(app, "GET", "/", client=("192.168.1.5", 4000),
                server=("192.168.1.5", 8765))[2] == "teacher"  # this machine, by its address
    assert teacher == ["/", "/", "/"]
    status, headers, _ = call(app, "GET", "/", client=None)  # no address: not this machine
    assert status == 307 and teacher == ["/", "/", "/"]
    closed = []

    async def websocket(client):
        async def receive():
            return {"type": "websocket.connect"}

        async def send(message):
            closed.append(message)

        await app({"type": "websocket", "path": "/jupyter/api/kernels/1/channels",
                   "client": client, "server": ("127.0.0.1", 80), "headers": []}, receive, send)

    asyncio.run(websocket(("192.168.1.20", 4000)))
    asyncio.run(websocket(None))
    assert closed == [{"type": "websocket.close", "code": 1008}] * 2 and len(teacher) == 3


# --- the class tournament -----------------------------------------------------------------------

def test_the_class_tournament_ranks_submissions_with_the_references(a_class, monkeypatch):
    students = {"Ada": small(ask_plan="spread", reply_share="50"),  # steady's own settings
                "Bob": small(name="Bob", bursts="3"),
                "Cleo": small(name="Cleo", ask_plan="daily", ask_hour="3", reply_share="0")}
    keys = {}
    for name, values in students.items():
        keys[name] = new_student()
        a_class.submit(keys[name], values)
    steps = []
    assert a_class.run_tournament(wait=True)
    p = a_class.progress
    assert (p.running, p.done, p.total, p.submissions, p.error) == (False, 5, 5, 3, "")
    table = a_class.standings
    assert list(table.status) == ["ranked"] * 5
    assert list(table["rank"]) == sorted(table["rank"])  # best first
    assert table.score.is_monotonic_increasing
    assert set(table.entry) == {"Ada", "Bob", "Cleo", "steady", "burst"}
    assert list(table.reference) == [e in ("steady", "burst") for e in table.entry]
    for criterion in ("net_change_pct", "actions", "engagements"):
        assert (table[f"{criterion}_low"] <= table[criterion]).all()
        assert (table[criterion] <= table[f"{criterion}_high"]).all()
    rows = table.set_index("entry")
    assert rows.loc["Ada", "net_change_pct"] == rows.loc["steady", "net_change_pct"]
    assert rows.loc["Ada", "actions"] == rows.loc["steady", "actions"]
    written = a_class.folder / "tournament"
    assert {p.name for p in written.iterdir()} >= {"standings.csv", "runs.csv", "report.txt",
                                                    "standings.png"}
    assert a_class.rank_of("Cleo")[1] == 5 and a_class.rank_of("Nobody") is None
    assert a_class.live is None  # the table so far is gone once the tournament is done
    # a second run plays only what changed: Bob's new strategy
    a_class.submit(keys["Bob"], small(name="Bob", ask_plan="daily"))
    original = tournament.play
    monkeypatch.setattr(tournament, "play", lambda entries, *a, **k:
                        steps.append(entries[0].name) or original(entries, *a, **k))
    assert a_class.run_tournament(wait=True)
    assert steps == ["Bob"]


def test_students_see_ranks_only_from_a_finished_tournament(a_class, monkeypatch):
    a_class.submit(new_student(), small(name="Ada", ask_plan="daily"))
    seen = []
    original = a_class.tournament.play

    def play(records, progress):
        def step(done, total, table):
            progress(done, total, table)
            # while it runs: the teacher's page has the table so far, the students no rank
            seen.append((a_class.live is not None, a_class.standings, a_class.rank_of("Ada")))
        return original(records, step)

    monkeypatch.setattr(a_class.tournament, "play", play)
    a_class.run_tournament(wait=True)
    assert seen and all(live and standings is None and rank is None
                        for live, standings, rank in seen)
    assert a_class.rank_of("Ada") is not None and a_class.live is None


def test_the_class_tournament_keeps_only_the_current_strategies_runs(a_class):
    me = new_student()
    for plan in ("daily", "spread", "bursts"):
        a_class.submit(me, small(ask_plan=plan))
        a_class.run_tournament(wait=True)
    assert len(a_class.tournament._done) == 3  # Ada's latest, steady and burst


def test_the_teacher_removes_a_submission_with_its_file(a_class):
    import ipyvuetify as v  # noqa: PLC0415
    import solara  # noqa: PLC0415

    from sim.apps.class_mode import teacher  # noqa: PLC0415

    rude, kind = new_student(), new_student()
    a_class.submit(rude, small(name="Rude word"))
    a_class.submit(kind, small(name="Kind"))
    seen = a_class.version
    _, rc = solara.render(teacher.Page(), handle_error=False)
    try:
        rc.find(v.Btn, children=["remove Rude word"]).widget.click()
        rc.find(v.Btn, children=["remove Kind"]).assert_single()
        deadline = time.time() + 10  # the page redraws when it sees the class change
        while rc.find(v.Btn, children=["remove Rude word"]).widgets and time.time() < deadline:
            time.sleep(0.05)
        assert rc.find(v.Btn, children=["remove Rude word"]).widgets == []
    finally:
        rc.close()
    assert [r.student for r in a_class.store.records()] == [kind] and a_class.version != seen
    assert sorted(p.stem for p in (a_class.folder / "submissions").iterdir()) == [kind]
    assert a_class.remove(rude) is None  # gone already: nothing to do
    assert [r.student for r in Store(a_class.folder / "submissions").records()] == [kind]


def test_the_replay_shows_the_top_and_the_bottom_day_by_day(a_class):
    for name in ("Ada", "Bob"):
        a_class.submit(new_student(), small(name=name, ask_plan="daily" if name == "Ada" else "spread"))
    assert not a_class.replay(wait=True)  # nothing to replay before a tournament
    a_class.run_tournament(wait=True)
    assert sorted(top_and_bottom(a_class.standings)) == ["Ada", "Bob"]  # the students' own
    assert a_class.replay(wait=True)
    assert a_class.replay_png.startswith(b"\x89PNG")
    assert a_class.replay_title.endswith("day 4 of 4") and "(top)" in a_class.replay_title
    runs = pd.read_csv(a_class.folder / "tournament" / "runs.csv")
    for model in a_class.last_replay.models:  # the tournament's own runs on seed 0
        run = runs[(runs.entry == model.label) & (runs.seed == 0)].iloc[0]
        assert model.follower_count == run.followers_end


def test_with_auto_on_every_submission_is_soon_in_the_standings(a_class):
    a_class.auto = True
    for name in ("Ada", "Bob", "Cleo"):
        a_class.submit(new_student(), small(name=name))
    deadline = time.time() + 120
    while time.time() < deadline and (a_class.progress.running or a_class.standings is None or
                                       len(a_class.standings) < 5):
        time.sleep(0.2)
    assert set(a_class.standings.entry) == {"Ada", "Bob", "Cleo", "steady", "burst"}
    assert a_class.progress.store_version == a_class.store.version  # nothing left out


def test_the_warm_up_leaves_the_class_settings_alone(a_class):
    a_class.warm_up()
    assert (a_class.base.audience.size, a_class.base.days) == (200, 4)


def test_submissions_wake_the_teachers_page(a_class):
    seen = a_class.version
    threading.Timer(0.2, a_class.submit, args=(new_student(), small())).start()
    start = time.perf_counter()
    assert a_class.wait(seen, timeout=10) != seen
    assert time.perf_counter() - start < 5


# --- the command line --------------------------------------------------------------------------

def test_help_mentions_class_mode(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["sim.app", "--help"])
    entry.main()
    out = capsys.readouterr().out
    assert "python -m sim.app --class" in out
    with pytest.raises(SystemExit) as done:
        entry.main(["--class", "--help"])
    assert done.value.code == 0
    assert "--class-folder" in capsys.readouterr().out


def test_python_m_sim_app_without_class_starts_the_page_as_before(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sim.app"])
    calls = []
    monkeypatch.setattr(page_module, "main", lambda: calls.append("page"))
    monkeypatch.setattr(class_mode, "main", lambda args: calls.append(("class", args)))
    entry.main(["--port", "8766"])
    entry.main(["--class", "--port", "8766"])
    assert calls == ["page", ("class", ["--port", "8766"])]
    assert sys.argv[1:] == ["--port", "8766"]  # what the page reads


@pytest.mark.parametrize("args", [[], ["--class"]])
def test_without_the_pages_extra_sim_app_says_what_to_install(monkeypatch, capsys, args):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "solara" else real(name, *a))
    with pytest.raises(SystemExit) as done:
        entry.main(args)
    err = capsys.readouterr().err
    assert done.value.code == 2 and "Traceback" not in err
    assert err.startswith("sim.app: the classroom page needs solara, which is not installed")
    assert "pip install 'sim[app]'" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, says", [
    (["--class-folder", "README.md"], "--class-folder README.md is a file, not a folder."),
    (["audience.sise=5"], "Setting 'audience.sise' does not exist. Did you mean 'audience.size'?"),
    (["strategy=burst"], "Setting 'strategy' cannot be set in class mode"),
    (["seed=3"], "Setting 'seed' cannot be set in class mode"),
    (["engine=agents"], "Setting 'engine' cannot be set in class mode"),
    (["threads=4"], "Setting 'threads' cannot be set in class mode"),
    (["--host", "no-such-host.invalid"], "--host is not an address or a name this machine "
                                         "knows"),
    (["--class-folder", "no/such/parent/class"], "its parent folder no/such/parent does not "
                                                 "exist"),
    (["--class-folder", "docs"], "--class-folder docs is a folder with other files in it and "
                                 "no class's config.yaml"),
    (["days=0"], "Setting 'days' = 0 is not allowed"),
    (["lots"], "'lots' is not a setting: give settings as KEY=VALUE"),
    (["--seeds", "0"], "--seeds 0: give 1 to 100 seeds."),
    (["--port", "70000"], "--port 70000 is not a port"),
])
def test_bad_input_is_one_paragraph_and_exit_2(args, says, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT if "README.md" in args or "docs" in args else tmp_path)
    with pytest.raises(SystemExit) as done:
        entry.main(["--class", "--host", "127.0.0.1", "--port", "0", *args])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert err.startswith("sim.app --class: ") and says in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "results").exists() and not (tmp_path / "no").exists()
    assert not (ROOT / "docs" / "submissions").exists()


def test_a_busy_port_and_a_class_folder_with_another_budget_are_refused(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit):
            entry.main(["--class", "--host", "127.0.0.1", "--port", str(port),
                        "--class-folder", str(tmp_path / "a")])
    err = capsys.readouterr().err
    assert f"Cannot serve on --host 127.0.0.1 --port {port}" in err
    assert "Another program serves on that port: give another port" in err
    Classroom(class_mode.class_settings(SMALL), tmp_path / "b", [0], SMALL)
    with pytest.raises(SystemExit):
        entry.main(["--class", "--host", "127.0.0.1", "--port", "0", "--class-folder",
                    str(tmp_path / "b"), "budget.asks=20", *SMALL])
    assert "was a class with a budget of 1 value post a day and 10 asks" in \
        capsys.readouterr().err


# --- a real server: 40 students at once ----------------------------------------------------------

STUDENTS = 40
LOAD_LIMIT = 60.0  # seconds for every student to load the page and submit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},
           "PYTHONPATH": str(ROOT)}
    with log.open("a") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim.app", "--class", "--host",
                                 "127.0.0.1", "--port", str(port), "--class-folder", str(folder),
                                 "--seeds", "2", *SMALL], cwd=folder.parent, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/student"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"the class server did not start:\n{log.read_text()}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def one_student(url: str, n: int) -> tuple[str, int, str]:
    """What a student's phone does: open the page, submit, see the submission on the page it is
    sent to. (cookie, status of the submission, what went wrong)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as first:
            cookie = first.headers["set-cookie"].split(";")[0]
        name = f"Student {n:02d}"
        values = small(name=name, asks=str(n % 11), ask_plan=ASK_PLANS[n % 3], bursts="2")
        request = urllib.request.Request(url, data=urlencode(values).encode(),
                                         headers={"Cookie": cookie})
        try:
            urllib.request.build_opener(NoRedirect).open(request, timeout=30)
            return cookie, 200, "refused: no redirect"
        except urllib.error.HTTPError as answer:
            if answer.code != 303:
                return cookie, answer.code, answer.read().decode()[:300]
            location = answer.headers["location"]
        sent = urllib.request.Request(urljoin(url, location), headers={"Cookie": cookie})
        page = urllib.request.urlopen(sent, timeout=30).read().decode()
        if f"‘{name}’" not in page:
            return cookie, 303, "the page after submitting does not show the submission"
        return cookie, 303, ""
    except Exception as error:  # noqa: BLE001 - counted as an error of the load test
        return "", 0, repr(error)


@pytest.mark.integration
def test_forty_students_submit_at_once_and_a_restarted_server_keeps_them(tmp_path):
    folder, log = tmp_path / "class", tmp_path / "server.log"
    proc, url = start_server(folder, log)
    try:
        results: list = [None] * STUDENTS
        gate = threading.Barrier(STUDENTS)

        def go(n: int) -> None:
            gate.wait()
            results[n] = one_student(url, n)

        threads = [threading.Thread(target=go, args=(n,)) for n in range(STUDENTS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=LOAD_LIMIT)
        seconds = time.perf_counter() - start
        errors = [r for r in results if r is None or r[1] != 303 or r[2]]
        print(f"\nclass mode load test: {STUDENTS} students, {STUDENTS - len(errors)} "
              f"submissions stored in {seconds:.2f} s, {len(errors)} errors")
        assert not errors, errors[:3]
        assert seconds < LOAD_LIMIT
        stored = sorted((folder / "submissions").glob("*.json"))
        assert len(stored) == STUDENTS
        names = {json.loads(p.read_text())["submission"]["name"] for p in stored}
        assert names == {f"Student {n:02d}" for n in range(STUDENTS)}
    finally:
        proc.kill()  # a crash, not a clean stop
        proc.wait(timeout=30)
    proc, url = start_server(folder, log)  # the same class folder: carries on
    try:
        cookie = results[7][0]
        page = urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}),
                                      timeout=30).read().decode()
        assert "Your submission:" in page and "Student 07" in page
        assert "40 submissions so far" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
