"""The classroom page in a real browser (Chromium through Playwright), served as a teacher
serves it (``python -m sim.app``): it loads, steps, takes a slider, resets and switches
strategy, with no console error and no request to any host but this machine.

Set SIM_SCREENSHOTS=docs/img to refresh the lesson's screenshot.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytest.importorskip("solara")
sync_api = pytest.importorskip("playwright.sync_api")

from sim.apps.page import RENDER_EVERY  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
LOCAL = {"127.0.0.1", "localhost"}
pytestmark = [pytest.mark.integration,  # starts the page's server as a process of its own
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python -m sim.app`` on a free local port; yields (url, log file)."""
    port, log = free_port(), tmp_path_factory.mktemp("app") / "server.log"
    # as a teacher starts it; without pytest's marker, which turns solara's own checks off
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim.app", "--host", "127.0.0.1",
                                 "--port", str(port)],
                                cwd=log.parent, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"the page did not start:\n{log.read_text()}")
    yield url, log
    proc.terminate()
    proc.wait(timeout=30)


def summary(page) -> str:
    return page.locator("table.sim-summary").inner_text()


def pictures(page) -> list[str]:
    return [img.get_attribute("src") for img in page.locator("img").all()]


def test_the_page_in_a_browser_works_offline(server):
    url, log = server
    remote, errors = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        def only_local(route):
            if urlparse(route.request.url).hostname in LOCAL:
                route.continue_()
            else:
                remote.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, wait_until="networkidle", timeout=90_000)
        page.get_by_text("Step: 0").wait_for(timeout=60_000)
        start, images = summary(page), pictures(page)
        assert "burst" in start and "steady" in start and "0.0 of 30" in start

        for n in (1, 2, 3):  # each Step advances one redraw
            page.get_by_role("button", name="Step").click()
            page.get_by_text(f"Step: {RENDER_EVERY * n}").wait_for(timeout=30_000)
        day = f"{3 * RENDER_EVERY / 24:.1f} of 30"
        page.wait_for_function("t => document.querySelector('table.sim-summary')"
                               ".innerText.includes(t)", arg=day, timeout=30_000)
        assert pictures(page) != images  # the charts and the audience were redrawn

        slider = page.get_by_role("slider").nth(2)  # followers at the start (after 2 controls)
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")  # 2,000 -> 2,500 followers
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("Step: 0").wait_for(timeout=60_000)
        page.wait_for_function("() => document.querySelector('table.sim-summary')"
                               ".innerText.includes('start 2,500')", timeout=60_000)

        page.get_by_text("burst", exact=True).first.click()  # the strategy menu
        page.get_by_role("option", name="silent").click()
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function("() => document.querySelector('table.sim-summary')"
                               ".innerText.includes('silent')", timeout=60_000)
        page.get_by_role("button", name="Step").click()
        page.get_by_text(f"Step: {RENDER_EVERY}").wait_for(timeout=30_000)
        if os.environ.get("SIM_SCREENSHOTS"):
            for _ in range(40):
                page.get_by_role("button", name="Step").click()
            page.wait_for_timeout(3000)
            page.screenshot(path=str(Path(os.environ["SIM_SCREENSHOTS"]) /
                                     "classroom_page.png"))
        browser.close()
    assert not remote, f"requests left the machine: {remote}"
    assert not errors, f"console errors: {errors}"
    assert "Could not load URL" not in log.read_text()  # the server fetched nothing either
