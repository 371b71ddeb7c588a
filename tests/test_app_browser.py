"""The classroom page in a real browser (Chromium through Playwright), served as a teacher
serves it (``python -m sim.app``): controls typed into, every strategy played to its last hour
on both sides, Step pressed past the end, and the lesson (docs/classroom.md) followed step by
step, checking what it says the class will see. No console error, no error message or
traceback on the page or in the server's log, no request to any host but this machine.

``python -m pytest -m browser`` runs them (a few minutes). Set SIM_SCREENSHOTS=docs/img to
refresh the lesson's screenshot.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import CHROMIUM, keep_local, served

pytest.importorskip("solara")
if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:  # CI: missing is a failure
    import playwright.sync_api as sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api")

from sim.apps.page import DEFAULTS, RENDER_EVERY, STRATEGIES  # noqa: E402

PLAY_TIMEOUT = 240_000  # ms: a 30-day run plays in about half a minute
pytestmark = [pytest.mark.integration,  # starts the page's server as a process of its own
              pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python -m sim.app`` on a free local port; yields (url, log file)."""
    log = tmp_path_factory.mktemp("app") / "server.log"
    with served([], log.parent, log, probe="") as url:
        yield url, log


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class Visit:
    """One visitor's tab on the page, with what a teacher does and reads there."""

    def __init__(self, page, url: str) -> None:
        self.page, self.url = page, url

    def open(self) -> None:
        """Load the page afresh: a new visitor, with the page's defaults."""
        self.page.goto(self.url, wait_until="networkidle", timeout=90_000)
        self.page.locator(".sim-clock").get_by_text("not started").wait_for(timeout=90_000)

    def clock(self) -> str:
        return self.page.locator(".sim-clock").inner_text()

    def wait_for_clock(self, text: str, timeout: float = 60_000) -> None:
        self.page.wait_for_function("t => document.querySelector('.sim-clock').innerText"
                                    ".includes(t)", arg=text, timeout=timeout)

    def runs(self) -> dict[str, dict[str, float]]:
        """Each run's numbers, as the headline carries them."""
        return self.page.eval_on_selector_all(
            ".sim-run", "spans => Object.fromEntries(spans.map(s => [s.dataset.run, "
            "Object.fromEntries(Object.entries(s.dataset).filter(([k]) => k != 'run')"
            ".map(([k, v]) => [k, Number(v)]))]))")

    def shown(self) -> None:
        """Wait until the headline and the table show the hour the clock shows (the page's
        parts reach the browser one after another)."""
        self.page.wait_for_function(
            "() => { const clock = document.querySelector('.sim-clock').innerText;"
            " const time = clock.split(' (')[0].split(' the')[0].split(' hour')[0].trim();"
            " const runs = [...document.querySelectorAll('.sim-run')];"
            " const table = document.querySelector('table.sim-summary').innerText;"
            " return runs.length > 0 && runs.every(r => r.dataset.hour == runs[0].dataset.hour)"
            " && table.split(time).length == runs.length + 1; }", timeout=60_000)

    def step(self, times: int = 1) -> None:
        for _ in range(times):
            before = self.clock()
            self.page.get_by_role("button", name="Step").click()
            self.page.wait_for_function("t => document.querySelector('.sim-clock').innerText"
                                        " != t", arg=before, timeout=60_000)
        self.shown()

    def play(self) -> float:
        """▶ to the end; the seconds it took."""
        start = time.time()
        self.page.get_by_role("button", name="▶ Play").click()
        self.wait_for_clock("the run is over", timeout=PLAY_TIMEOUT)
        self.shown()
        return time.time() - start

    NOTICE = "(document.querySelector('.v-alert.info--text') || {innerText: ''}).innerText"

    def notice(self, text: str, instead_of: str | None = None) -> None:
        """Wait for the blue note saying what a change did (a new one, if ``instead_of``)."""
        self.page.wait_for_function(f"([t, old]) => {self.NOTICE}.includes(t) && "
                                    f"(old === null || {self.NOTICE} != old)",
                                    arg=[text, instead_of], timeout=60_000)

    def last_notice(self) -> str:
        return self.page.evaluate(self.NOTICE)

    def box(self, label: str):
        return self.page.get_by_label(label, exact=True)

    def type(self, label: str, value: str) -> None:
        """Type a value into a setting's box and press Enter; the run starts again."""
        before = self.last_notice()
        self.box(label).fill(value)
        self.box(label).press("Enter")
        self.notice(f"{label} is now", instead_of=before)

    def choose(self, label: str, option: str) -> None:
        before = self.last_notice()
        self.page.locator(".v-select", has_text=label).click()
        menu = self.page.locator(".menuable__content__active")
        menu.get_by_role("option", name=option, exact=True).click()
        self.notice(f"{label} is now {option}", instead_of=before)

    def press_step_past_the_end(self) -> None:
        """The run is over: Step is greyed out, and a click (forced) changes nothing."""
        before = self.clock()
        step = self.page.get_by_role("button", name="Step")
        sync_api.expect(step).to_be_disabled(timeout=30_000)
        step.click(force=True)
        self.page.wait_for_timeout(500)
        assert self.clock() == before

    def assert_no_error(self) -> None:
        errors = self.page.locator(".v-alert.error--text, .v-alert.error")
        assert errors.count() == 0, errors.all_inner_texts()
        assert "Traceback" not in self.page.locator("body").inner_text()


@pytest.fixture
def visit(server, chromium):
    """A fresh tab on the page; afterwards, nothing left the machine and nothing failed: no
    console error, no error on the page, no traceback in the server's log."""
    url, log = server
    logged = log.stat().st_size
    remote, errors = [], []
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()

    keep_local(page, remote)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    tab = Visit(page, url)
    tab.open()
    yield tab
    tab.assert_no_error()
    context.close()
    assert not remote, f"requests left the machine: {remote}"
    assert not errors, f"console errors: {errors}"
    with log.open() as f:
        f.seek(logged)
        new = f.read()
    assert "Traceback" not in new and "Could not load URL" not in new, new


# --- the controls -------------------------------------------------------------------------------

def test_controls_show_their_values_take_typing_and_say_what_they_did(visit):
    page = visit.page
    assert visit.clock().startswith("day 0, 00:00 (not started)")
    for gone in ("Play Interval", "Render Interval", "Use Threads", "Page 0", "Step: "):
        assert page.get_by_text(gone).count() == 0  # Mesa's own controls are not here
    assert visit.box("Followers at the start").input_value() == str(DEFAULTS["followers"])
    assert visit.box("Asks over the run").input_value() == "10"
    assert page.get_by_text("asks", exact=True).count() >= 1  # the unit beside the value

    visit.type("Followers at the start", "1000")
    visit.type("Days", "2")
    assert "1,000 followers each, 2 days" in page.locator(".sim-headline").inner_text()
    visit.type("Asks over the run", "500")
    visit.notice("500 is outside 0 to 200")
    assert visit.box("Asks over the run").input_value() == "200"

    track = page.locator(".sim-knob", has=visit.box("Days")).locator(".v-slider__track-container")
    before = visit.last_notice()
    track.click()  # a click in the middle of the track: the value moves, and the page says so
    visit.notice("Days is now 3", instead_of=before)  # 1 to 60 days: the middle
    shown = visit.box("Days").input_value()
    assert 25 <= int(shown) <= 35
    visit.notice(f"Days is now {shown} days")
    visit.type("Days", "1")

    visit.step()
    assert visit.clock().startswith(f"day 0, {RENDER_EVERY - 1:02d}:00")
    before = visit.last_notice()
    page.get_by_role("button", name="Reset").click()
    visit.notice("Reset: the run started again", instead_of=before)
    assert "not started" in visit.clock()
    visit.step()  # a 1-day run is one Step
    assert visit.clock().startswith("day 0, 23:00") and "the run is over" in visit.clock()
    visit.press_step_past_the_end()

    visit.choose("Strategy", "steady")
    visit.choose("Compare with (same audience and seed)", "silent")
    assert visit.box("Burst length").is_disabled()  # neither run has a burst


def test_every_strategy_plays_to_its_last_hour_as_main_and_as_comparison(visit):
    """Small audiences; every strategy once on each side; runs of 1, 2 and 30 days."""
    visit.type("Followers at the start", "500")
    pairs = list(zip(STRATEGIES, STRATEGIES[1:] + STRATEGIES[:1]))
    for n, (main, rival) in enumerate(pairs):
        days = 30 if n == 2 else 1 + n % 2
        if visit.box("Days").input_value() != str(days):
            visit.type("Days", str(days))
        visit.choose("Strategy", main)
        visit.choose("Compare with (same audience and seed)", rival)
        visit.play()
        last = f"day {days - 1}, 23:00"
        assert visit.clock().startswith(last), (main, rival)
        table = visit.page.locator("table.sim-summary").inner_text()
        assert table.count(last) == 2, table  # both runs at their last hour
        visit.press_step_past_the_end()
        visit.assert_no_error()


# --- the lesson (docs/classroom.md), step by step -----------------------------------------------

def test_the_lesson_how_to_use_it_and_things_to_notice(visit):
    """The default run at the default size, burst against steady: played to the end as the
    lesson says, then run again by Step to the burst and past it; what "Things to notice" says,
    checked on the page."""
    page = visit.page
    assert "burst against steady: 20,000 followers each, 30 days" in \
        page.locator(".sim-headline").inner_text()
    visit.play()  # "Run burst against steady for 30 days (the default: press ▶)"
    assert visit.clock().startswith("day 29, 23:00")
    visit.press_step_past_the_end()
    end = visit.runs()
    headline = page.locator(".sim-headline").inner_text()  # the leader first, in big letters
    assert headline.startswith("steady keeps") and "Actions on asks: steady" in headline

    before = visit.last_notice()
    page.get_by_role("button", name="Reset").click()
    visit.notice("Reset: the run started again", instead_of=before)
    visit.step()  # "Step runs 24 hours (a day)"
    assert visit.clock().startswith("day 0, 23:00")
    visit.step(19)
    assert visit.clock().startswith("day 19, 23:00")  # the day before the burst
    before = visit.runs()
    visit.step()
    assert visit.clock().startswith("day 20, 23:00")  # the burst's day
    after = visit.runs()
    visit.step(3)
    assert visit.clock().startswith("day 23, 23:00")
    three = visit.runs()
    if os.environ.get("SIM_SCREENSHOTS"):  # the lesson's picture: just after the burst
        page.screenshot(path=str(Path(os.environ["SIM_SCREENSHOTS"]) / "classroom_page.png"))

    burst, steady = (lambda r: r["burst"]), (lambda r: r["steady"])
    # the burst's day costs about 230 followers (1.2 %), about 125 more over three days
    assert 160 <= burst(before)["followers"] - burst(after)["followers"] <= 320
    assert 70 <= burst(after)["followers"] - burst(three)["followers"] <= 190
    # about half of the burst's squares turn orange, none the day before; fewer stay green
    assert burst(before)["annoyed"] == 0 and 120 <= burst(after)["annoyed"] <= 280
    assert burst(after)["engaged"] < burst(before)["engaged"]
    # from day 24 on, no more lost a day than in the 20 quiet days; no orange by the end
    lost_before = (20_000 - burst(before)["followers"]) / 20
    lost_after = (burst(three)["followers"] - burst(end)["followers"]) / 6
    assert lost_after <= lost_before and burst(end)["annoyed"] == 0
    # steady about +0.3 %, burst about -2.3 %; actions about 250 against 135
    assert abs(steady(end)["change"] - 0.3) < 0.4 and abs(burst(end)["change"] + 2.3) < 0.4
    assert abs(steady(end)["actions"] - 250) < 50 and abs(burst(end)["actions"] - 135) < 35
    # the burst's actions nearly all come on its day
    assert burst(before)["actions"] == 0 and burst(after)["actions"] >= 0.95 * burst(end)["actions"]


def test_the_lesson_things_to_try(visit):
    """Each of the five questions, from the page's defaults, typed in and played to the end;
    the model's answers as the lesson gives them."""
    def play_with(**typed) -> dict:
        visit.open()
        for label, value in typed.items():
            visit.type(label, value)
            assert visit.box(label).input_value() == value
        visit.play()
        assert visit.clock().startswith("day 29, 23:00")
        return visit.runs()

    fewer = play_with(**{"Asks over the run": "2"})  # 1. the burst still costs followers
    assert fewer["burst"]["change"] < -1.3 < 0.3 < fewer["steady"]["change"]
    assert 0 < fewer["steady"]["actions"] - fewer["burst"]["actions"] < 50  # from about 115

    slower = play_with(**{"Burst length": "72"})  # 2. same asks, less flood
    assert -1.0 < slower["burst"]["change"] < slower["steady"]["change"]
    assert slower["steady"]["actions"] - slower["burst"]["actions"] > 50

    flat = play_with(**{"Reciprocity sensitivity": "0"})  # 3. actions change, followers hardly
    assert flat["steady"]["actions"] < 235 and flat["burst"]["actions"] < 125
    assert 2.0 < flat["steady"]["change"] - flat["burst"]["change"] < 3.0

    busy = play_with(**{"Posts a follower reads a day": "200"})  # 4. attention: no shield
    assert busy["burst"]["change"] < -2.6 and busy["steady"]["actions"] > 260

    visit.open()  # 5. replies: steady against broadcast
    visit.choose("Strategy", "steady")
    visit.choose("Compare with (same audience and seed)", "broadcast")
    visit.play()
    replies = visit.runs()
    assert replies["steady"]["change"] - replies["broadcast"]["change"] > 0.2
    assert abs(replies["steady"]["actions"] - replies["broadcast"]["actions"]) < 25
