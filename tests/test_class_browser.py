"""Class mode in a real browser (Chromium through Playwright), served as a teacher serves it
(``python -m sim.app --class``): three students design and submit strategies on pages of their
own, one over-budget submission is refused with its reason, a student's page that reloads
keeps its submission; the teacher sees the three arrive, runs the tournament, sees the
standings and the replay. No console error, and no request to any host but this machine.

Set SIM_SCREENSHOTS=docs/img to refresh the lesson's screenshots (class_mode.png, the
teacher's page; class_student.png, a student's page on a phone, with a refusal).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import CHROMIUM, keep_local, served

pytest.importorskip("solara")
sync_api = pytest.importorskip("playwright.sync_api")

SETTINGS = ["audience.size=2000", "days=30"]  # the lesson's class
SEEDS = "3"
pytestmark = [pytest.mark.integration, pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")]

STUDENTS = [  # name, controls to fill in, the plan
    ("Ada", {"posts_per_day": "1", "asks": "10", "reply_share": "60"}, "spread"),
    ("Grace", {"posts_per_day": "1", "asks": "10", "ask_hour": "19", "reply_share": "20"},
     "daily"),
    ("Linus", {"posts_per_day": "1", "asks": "10", "bursts": "2", "first_burst_day": "10",
               "days_between": "7", "burst_length": "6", "value_in_bursts": "80",
               "reply_share": "0"}, "bursts"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python -m sim.app --class`` on a free local port; yields (url, log file, folder)."""
    where = tmp_path_factory.mktemp("class")
    log, folder = where / "server.log", where / "class"
    with served(["--class", "--class-folder", str(folder), "--seeds", SEEDS, *SETTINGS],
                where, log, probe="student") as url:
        yield url, log, folder


def submit(page, name: str, controls: dict, plan: str) -> None:
    page.get_by_label("Name").fill(name)
    page.locator(f"#plan-{plan}").check()
    for key, value in controls.items():
        page.locator(f"input[name={key}]").fill(value)
    send(page)


def send(page) -> None:
    """Press submit and wait for the page it brings (a refusal, or the page after a submission)."""
    with page.expect_navigation(wait_until="load", timeout=30_000):
        page.get_by_role("button", name="Submit my strategy").click()


def lesson(url: str, teacher, students: list) -> None:
    """Three students submit (one first over the budget), one reloads; the teacher sees them
    arrive, runs the tournament and the replay."""
    for page, (name, controls, plan) in zip(students, STUDENTS):
        page.goto(url + "student", wait_until="load", timeout=30_000)
        if name == "Linus":  # over the budget first: refused, with the reason
            submit(page, name, {**controls, "asks": "50"}, plan)
            alert = page.get_by_role("alert").inner_text()
            assert "Not submitted. Asks over the run = 50 is over the class budget" in alert
            assert "give a whole number from 0 to 10" in alert
            assert page.locator("input[name=asks]").input_value() == "50"  # as typed
            if os.environ.get("SIM_SCREENSHOTS"):
                page.screenshot(path=str(Path(os.environ["SIM_SCREENSHOTS"]) /
                                         "class_student.png"))
            page.locator("input[name=asks]").fill(controls["asks"])
            send(page)
        else:
            submit(page, name, controls, plan)
        assert "Thank you: your strategy is in." in page.inner_text("body")
        assert f"‘{name}’" in page.locator("#yours").inner_text()

    grace = students[1]
    grace.reload(wait_until="load")  # a page that drops and comes back
    assert "Your submission:" in grace.inner_text("body")
    assert grace.get_by_label("Name").input_value() == "Grace"
    assert grace.locator("#plan-daily").is_checked()
    assert grace.locator("input[name=ask_hour]").input_value() == "19"

    teacher.locator(".count").get_by_text("3").wait_for(timeout=30_000)
    listed = teacher.locator("table.sim-submissions").inner_text()
    assert all(name in listed for name, _, _ in STUDENTS)
    assert "10 asks in 2 bursts of 6 h from day 10" in listed

    teacher.get_by_role("button", name="Run the tournament").click()
    teacher.get_by_text("Ran 3 submissions").wait_for(timeout=120_000)
    standings = teacher.locator("table.sim-standings").inner_text()
    assert all(name in standings for name, _, _ in STUDENTS)
    assert "steady (reference)" in standings and "burst (reference)" in standings
    assert "[" in standings  # the intervals

    teacher.get_by_role("button", name="Replay the top and the bottom side by side").click()
    teacher.locator(".sim-replay-title").get_by_text("day 30 of 30").wait_for(
        timeout=120_000)
    assert "(top)" in teacher.locator(".sim-replay-title").inner_text()
    students[0].reload(wait_until="load")  # a student sees where they came
    assert "In the last tournament it ranked" in students[0].inner_text("body")


def test_a_class_in_a_browser_works_offline(server):
    url, log, folder = server
    remote, errors = [], []

    def watch(page):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        contexts = []

        def device(**options):  # a device of its own: its own cookies, its own student
            context = browser.new_context(**options)
            keep_local(context, remote)
            contexts.append(context)
            return watch(context.new_page())

        teacher = device(viewport={"width": 1400, "height": 1560})
        teacher.goto(url, wait_until="networkidle", timeout=90_000)
        teacher.locator(".count").get_by_text("0").wait_for(timeout=60_000)

        students = [device(viewport={"width": 412, "height": 915}) for _ in STUDENTS]
        try:
            lesson(url, teacher, students)
        except Exception as error:  # say what the teacher saw and what the server said
            error.add_note(f"--- the teacher's page:\n{teacher.inner_text('body')}\n--- the "
                           f"server:\n{log.read_text()}")
            raise
        if os.environ.get("SIM_SCREENSHOTS"):
            shots = Path(os.environ["SIM_SCREENSHOTS"])
            teacher.wait_for_timeout(1500)
            teacher.screenshot(path=str(shots / "class_mode.png"))
        for context in contexts:
            context.close()
        browser.close()
    assert not remote, f"requests left the machine: {remote}"
    assert not errors, f"console errors: {errors}"
    text = log.read_text()
    assert "Traceback" not in text and "Could not load URL" not in text
    assert len(list((folder / "submissions").glob("*.json"))) == 3
    assert (folder / "tournament" / "standings.csv").is_file()
