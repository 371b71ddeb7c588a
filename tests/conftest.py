"""Shared fixtures: composing settings like the command line does, small fast runs, the command
lines run inside this process, and the one way a test starts a real process.

A test that starts a process (``sim_process``, a venv, a server, a launcher) is marked
``integration``; ``python -m pytest -m "not integration"`` skips them. Everything else runs the
command lines in this process (``sim_cli``), which gives the same exit status, stdout and
stderr without paying for a new interpreter and its imports each time.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import io
import logging
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from sim.config.compose import settings
from sim.experiment.run import Result, simulate

ROOT = Path(__file__).resolve().parents[1]
SUBPROCESS_TIMEOUT = 600

# Property-based tests: the same examples on every run (a verdict does not depend on luck), no
# example database written into the source tree, no deadline (a loaded machine is slow).
# ``--hypothesis-profile=explore`` draws new examples each run.
hypothesis_settings.register_profile("sim", derandomize=True, database=None, deadline=None)
hypothesis_settings.register_profile("explore", database=None, deadline=None,
                                     max_examples=1000)
hypothesis_settings.load_profile("sim")


@functools.lru_cache(maxsize=64)
def _run(overrides: tuple[str, ...]) -> Result:
    return simulate(settings(*overrides))


@pytest.fixture
def run():
    """run("strategy=burst", "audience.size=500") -> Result; identical calls are cached."""
    def _go(*overrides: str) -> Result:
        return _run(tuple(overrides))
    return _go


@pytest.fixture
def cfg():
    return settings


# --- real processes ---------------------------------------------------------------------------

def run_process(*args: str, module: str | None = "sim", cwd: Path | str = ROOT,
                env: dict[str, str | None] | None = None, wait: bool = True,
                timeout: float = SUBPROCESS_TIMEOUT):
    """``python -m MODULE ARGS`` in a new process, as a user's shell starts it, on the source
    tree (PYTHONPATH); ``module=None`` runs ``python ARGS`` (e.g. ``"-c", code``); ``env`` adds
    variables (None removes one). Returns the finished
    process (text stdout and stderr) or, with ``wait=False``, the running one in a session of
    its own (output discarded)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    command = [sys.executable, *(["-m", module] if module else []), *args]
    if not wait:
        return subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="session")
def sim_process():
    """``sim_process("strategy=burst", cwd=tmp_path)``: see :func:`run_process`. Tests that use
    it must be marked ``integration`` (checked at collection)."""
    return run_process


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    unmarked = [item.nodeid for item in items
                if "sim_process" in getattr(item, "fixturenames", ())
                and item.get_closest_marker("integration") is None]
    if unmarked:
        raise pytest.UsageError("these tests start processes (sim_process) but are not marked "
                                "integration: " + ", ".join(unmarked))


# --- the command lines, in this process -------------------------------------------------------

@dataclass
class Ran:
    """What a command line did: like subprocess.CompletedProcess."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


MAINS = {  # python -m NAME: the module whose main() it runs
    "sim": "sim.apps.cli",
    "sim.collect": "sim.experiment.collect",
    "sim.compare": "sim.experiment.compare",
    "sim.calibrate": "sim.experiment.calibrate",
    "sim.tournament": "sim.apps.tournament",
    "sim.app": "sim.apps.page",
}


class _LoggingState:
    """Hydra configures logging for every run (job_logging): the root logger's handlers write
    to the console and the run's sim.log. This puts every logger back as it was."""

    def __init__(self) -> None:
        self.loggers = {name: self._state(lg) for name, lg in self._all().items()}

    @staticmethod
    def _all() -> dict[str, logging.Logger]:
        found = {"": logging.getLogger()}
        found.update({name: lg for name, lg in logging.Logger.manager.loggerDict.items()
                      if isinstance(lg, logging.Logger)})
        return found

    @staticmethod
    def _state(lg: logging.Logger) -> tuple:
        return lg.level, list(lg.handlers), lg.propagate, lg.disabled

    def restore(self) -> None:
        for name, lg in self._all().items():
            level, handlers, propagate, disabled = self.loggers.get(
                name, (logging.NOTSET, [], True, False))
            for h in lg.handlers:
                if h not in handlers:
                    with contextlib.suppress(Exception):
                        h.close()
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate
            lg.disabled = disabled


def run_in_process(*args: str, module: str = "sim", cwd: Path | str | None = None,
                   env: dict[str, str | None] | None = None) -> Ran:
    """``python -m MODULE ARGS`` run by this interpreter: the working folder ``cwd`` first on
    sys.path (as ``python -m`` puts it), stdout and stderr captured, SystemExit turned into the
    exit status and an uncaught exception into a traceback on stderr and status 1. Hydra's
    global state, logging, the environment, sys.argv, sys.path and the working folder are put
    back afterwards; modules imported from ``cwd`` are forgotten."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    target = importlib.import_module(MAINS[module])
    folder = Path(cwd or ROOT).resolve()
    saved_argv, saved_path, saved_cwd = list(sys.argv), list(sys.path), os.getcwd()
    saved_env = dict(os.environ)
    saved_modules = set(sys.modules)
    logs = _LoggingState()
    out, err = io.StringIO(), io.StringIO()
    code = 0
    GlobalHydra.instance().clear()
    HydraConfig.instance().cfg = None
    if module == "sim":
        target._composed = False  # the command line has not been read yet
    try:
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.chdir(folder)
        sys.path.insert(0, str(folder))
        importlib.invalidate_caches()
        sys.argv = [str(Path(target.__file__)), *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                target.main()
            except SystemExit as e:
                if e.code is None or isinstance(e.code, int):
                    code = e.code or 0
                else:
                    print(e.code, file=sys.stderr)
                    code = 1
            except Exception:  # noqa: BLE001 - what the interpreter would print
                traceback.print_exc(file=sys.stderr)
                code = 1
    finally:
        logs.restore()
        GlobalHydra.instance().clear()
        HydraConfig.instance().cfg = None
        os.chdir(saved_cwd)
        sys.argv[:] = saved_argv
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)
        for name in set(sys.modules) - saved_modules:  # a user's strategy module, say
            file = getattr(sys.modules[name], "__file__", None) or ""
            if file and Path(file).resolve().is_relative_to(folder) and folder != ROOT:
                del sys.modules[name]
    return Ran([module, *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def sim_cli():
    """``sim_cli("strategy=burst", "days=3", cwd=tmp_path)``: ``python -m sim ...`` in this
    process (``module="sim.compare"`` etc. for the other command lines); see
    :func:`run_in_process`."""
    return run_in_process


# --- the browser ------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test marked ``browser`` needs Chromium and Playwright. On a laptop without them it is
    skipped (by its own skipif); in CI (CI=true) it fails instead, before any skipif is read:
    a browser test skipped in CI would pass unseen."""
    if item.get_closest_marker("browser") is None or not in_ci():
        return
    if not CHROMIUM.exists():
        pytest.fail(f"CI must run the browser tests: there is no Chromium at {CHROMIUM} "
                    f"(Debian: apt-get install chromium chromium-driver; .ci/run installs it).",
                    pytrace=False)
    if importlib.util.find_spec("playwright") is None:
        pytest.fail("CI must run the browser tests: playwright is not installed "
                    "(pip install '.[test]').", pytrace=False)


LOCAL = {"127.0.0.1", "localhost"}


@contextlib.contextmanager
def served(args: list[str], cwd: Path, log: Path, probe: str):
    """``python -m sim.app ARGS`` on a free local port, as a teacher starts it (without
    pytest's marker, which turns solara's own checks off), until ``probe`` (a path under the
    address) answers; yields the address. Output goes to ``log``."""
    import socket  # noqa: PLC0415
    import time  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim.app", *args, "--host", "127.0.0.1",
                                 "--port", str(port)],
                                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url + probe, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"python -m sim.app {' '.join(args)} did not start:\n{log.read_text()}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def keep_local(target, remote: list[str]) -> None:
    """Route every request of a Playwright page or context: to this machine it goes on,
    anywhere else it is stopped and noted in ``remote`` (the page must work offline)."""
    from urllib.parse import urlparse  # noqa: PLC0415

    def only_local(route):
        if urlparse(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            remote.append(route.request.url)
            route.abort()
    target.route("**/*", only_local)
