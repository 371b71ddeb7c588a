"""``python -m sim.app --class``: class mode, a live tournament of the students' strategies
(in the spirit of NetLogo's HubNet).

One server on the teacher's machine serves two pages: the teacher's (``/``, a solara page,
:mod:`sim.apps.class_mode.teacher`; only to this machine) and the students' (``/student``, a plain form,
:mod:`sim.apps.class_mode.student`; to anyone on the network). Students submit strategies as data; no
student code runs here. Nothing is fetched from the internet: the front end comes from
solara-assets, the figures are drawn on the server, solara's telemetry is off and its version
check (a request to PyPI that ``solara run`` makes) is never made.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import os
import socket
import sys
import threading
import warnings
from datetime import datetime
from pathlib import Path

import solara.server.settings
import uvicorn
from omegaconf import OmegaConf
from starlette.responses import PlainTextResponse, RedirectResponse

from sim.apps.class_mode import classroom as classroom_module
from sim.apps.class_mode import student
from sim.apps.class_mode.classroom import Classroom
from sim.apps.class_mode.submission import ClassRules
from sim.config.checks import check, composition_error, share_strategy_settings
from sim.config.compose import settings
from sim.errors import UserError

PROG = "python -m sim.app --class"
ANY_HOST = ("0.0.0.0", "::", "")  # every address of this machine
OFFLINE = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}  # solara's usage statistics: off
CLASS_DEFAULTS = ["engine=vector", "threads=1"]  # the array engine (a run in a fraction of a
# second, and the replay's squares read it); one core, so the server still answers the
# students while the tournament runs
NOT_FOR_CLASS = ("strategy", "seed", "engine", "threads", "hydra", "+experiment", "ensemble",
                 "resume")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Class mode: students design posting strategies on their own devices "
                    "(controls, not code) and submit them; the teacher's page runs them all on "
                    "the same audience and seeds, with steady and burst as references, and shows "
                    "the standings and a replay of the top and bottom strategies. Nothing is "
                    "fetched from the internet.",
        epilog="The teacher opens http://localhost:PORT/ on this machine; students open "
               "http://THIS-MACHINE:PORT/student. Example: python -m sim.app --class --seeds 5 "
               "audience.size=2000 days=30 budget.asks=10. The lesson: docs/classroom.md.")
    p.add_argument("settings", nargs="*", metavar="SETTING=VALUE",
                   help="settings of every run, as python -m sim takes them (audience.size=, "
                        "days=, budget.posts_per_day=, budget.asks=, ...)")
    p.add_argument("--host", default="0.0.0.0",
                   help="address to serve on (default 0.0.0.0: the school network; "
                        "127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free one)")
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 every strategy runs on "
                                                         "(default 5)")
    p.add_argument("--class-folder", type=Path, default=None, metavar="FOLDER",
                   help="where the submissions and results are kept (default "
                        "results/class/<time>/); give a class's folder again to carry on "
                        "with its submissions")
    p.add_argument("--max-students", type=int, default=60,
                   help="most submissions the class takes (default 60)")
    return p


# --- the class from the command line ------------------------------------------------------------

def class_settings(overrides: list[str]):
    """The runs' settings: steady's (the references' budget and reply capacity) with the
    class's overrides, on the array engine."""
    for item in overrides:
        key = item.partition("=")[0].lstrip("+~")
        if "=" not in item:
            raise UserError(f"'{item}' is not a setting: give settings as KEY=VALUE (e.g. "
                            f"audience.size=2000), or see {PROG} --help.")
        if key.startswith(NOT_FOR_CLASS):
            raise UserError(f"Setting '{key}' cannot be set in class mode: the strategies are "
                            f"the students' own, the seeds are 0 to N-1 (--seeds N) and the "
                            f"engine is the array engine, on one thread (the server keeps "
                            f"answering the students while it runs). Give settings of the audience, "
                            f"behaviour, platform, days and budget.")
    try:
        base = settings("strategy=steady", *CLASS_DEFAULTS, *share_strategy_settings(overrides))
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - Hydra's composition errors, in one paragraph
        raise composition_error(error) from None
    check(base)
    return base


def class_folder(given: Path | None, rules: ClassRules) -> Path:
    """The class's folder, new or a class's before (then its budget and days must match)."""
    folder = given or Path("results") / "class" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--class-folder {folder} is a file, not a folder. Give a new folder, "
                        f"or the folder of a class started before to carry on with its "
                        f"submissions.")
    before = folder / "config.yaml"
    if given is not None and not folder.parent.is_dir():
        raise UserError(f"--class-folder {folder}: its parent folder {folder.parent} does not "
                        f"exist. Give a folder in an existing folder (it is made there), or the "
                        f"folder of a class started before.")
    if folder.is_dir() and not before.is_file() and any(folder.iterdir()):
        raise UserError(f"--class-folder {folder} is a folder with other files in it and no "
                        f"class's config.yaml: it is not a class's folder. Give a new or empty "
                        f"folder, or the folder of a class started before.")
    if before.is_file():
        try:
            earlier = ClassRules.from_settings(OmegaConf.load(before))
        except Exception as error:  # noqa: BLE001 - a file edited by hand, say
            raise UserError(f"--class-folder {folder} holds a config.yaml that cannot be read "
                            f"({type(error).__name__}). Give a new folder.") from None
        if earlier != rules:
            raise UserError(
                f"--class-folder {folder} was a class with a budget of "
                f"{earlier.budget_words()}; these settings give {rules.budget_words()}, and its "
                f"submissions were judged by the old budget. Start with the same settings, or "
                f"give a new folder.")
    try:
        (folder / "submissions").mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise UserError(f"--class-folder {folder} cannot be used: {error.strerror or error}. "
                        f"Give a folder you can write to.") from None
    return folder


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound now, so that a busy port is said before anything starts."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port {port} is not a port: give 1 to 65535 (or 0 for any free one).")
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = info[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        raise UserError(f"Cannot serve on --host {host} --port {port}: "
                        f"{error.strerror or error}. {_advice(error, port)}") from None
    return sock


def _advice(error: OSError, port: int) -> str:
    """What to do when the server's socket cannot be bound, by the cause."""
    if isinstance(error, socket.gaierror):
        return ("--host is not an address or a name this machine knows: give one of its "
                "addresses, 0.0.0.0 for the school network or 127.0.0.1 for this machine only.")
    if error.errno == errno.EADDRINUSE:
        return ("Another program serves on that port: give another port (--port "
                f"{port + 1 if 0 < port < 65535 else 8766}), or stop that program.")
    if error.errno == errno.EADDRNOTAVAIL:
        return ("--host is not an address of this machine: give one of its addresses, "
                "0.0.0.0 for the school network or 127.0.0.1 for this machine only.")
    if error.errno == errno.EACCES:
        return ("Ports below 1024 need an administrator: give a port from 1024 up (--port "
                "8765).")
    return ("Give another port (--port 8766), or --host 127.0.0.1 for this machine only.")


def prepare(argv: list[str]) -> tuple[argparse.Namespace, Classroom, socket.socket]:
    """The class the command line asks for, its folder and its socket; or a UserError before
    anything is written."""
    args = parser().parse_args(argv)
    if not 1 <= args.seeds <= 100:
        raise UserError(f"--seeds {args.seeds}: give 1 to 100 seeds.")
    if not 1 <= args.max_students <= 1000:
        raise UserError(f"--max-students {args.max_students}: give 1 to 1000.")
    base = class_settings(args.settings)
    sock = listen(args.host, args.port)
    try:
        folder = class_folder(args.class_folder, ClassRules.from_settings(base))
        classroom = Classroom(base, folder, list(range(args.seeds)), args.settings,
                              capacity=args.max_students)
    except BaseException:
        sock.close()
        raise
    return args, classroom, sock


# --- serving ------------------------------------------------------------------------------------

def is_local(scope) -> bool:
    """Whether a request comes from this machine: from a loopback address, or from the
    address it was sent to (a browser here that opened the server's network address)."""
    client, server = scope.get("client"), scope.get("server")
    if not client:
        return False  # no address to tell where it comes from: not this machine's, then
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback or bool(server and client[0] == server[0])


class ClassApp:
    """The server: ``/student`` to the students' pages; everything else is the teacher's
    page, which only this machine may open (a student who opens ``/`` is sent to theirs)."""

    def __init__(self, teacher, students=student.app) -> None:
        self.teacher, self.students = teacher, students

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            path = scope.get("path", "")
            if path == student.PATH or path.startswith(student.PATH + "/"):
                await self.students(scope, receive, send)
                return
            if not is_local(scope):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                if path == "/":  # a student who typed the bare address
                    response = RedirectResponse(student.PATH, status_code=307)
                else:
                    response = PlainTextResponse(
                        f"This is the teacher's page. Students: open {student.PATH} on this "
                        f"server.", status_code=403)
                await response(scope, receive, send)
                return
        await self.teacher(scope, receive, send)


def network_address() -> str | None:
    """This machine's address on the school network, if it has one: the address a UDP socket
    would send from (connect() on UDP sends nothing; no packet leaves the machine)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def student_address(host: str, port: int) -> str:
    if host in ANY_HOST:
        where = network_address() or "THIS-MACHINE'S-ADDRESS"
    else:
        where = f"[{host}]" if ":" in host else host
    return f"http://{where}:{port}{student.PATH}"


def serve(classroom: Classroom, sock: socket.socket, host: str) -> None:
    """Serve the class until interrupted (Ctrl-C)."""
    port = sock.getsockname()[1]
    os.environ.update(OFFLINE)
    os.environ["SOLARA_APP"] = "sim.apps.class_mode.teacher"
    solara.server.settings.telemetry.mixpanel_enable = False  # read before we could set it
    solara.server.settings.main.mode = "production"  # development mode links to solara.dev
    # solara's server reads SOLARA_APP when imported, so it is imported once that is set
    from solara.server.starlette import app as solara_app  # noqa: PLC0415

    # solara asks for samesite=none session cookies, which need https; on a school network's
    # http it falls back to lax, as it should, and says so at every visit
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

    classroom.student_address = student_address(host, port)
    classroom_module.CURRENT = classroom
    teacher = f"http://localhost:{port}/" if host in ANY_HOST else \
        f"http://{f'[{host}]' if ':' in host else host}:{port}/"
    console = logging.getLogger("sim.apps")
    console.addHandler(logging.StreamHandler(sys.stdout))
    console.setLevel(logging.INFO)
    r = classroom.rules
    print(f"sim class mode: {len(classroom.store)} submissions so far; budget "
          f"{r.budget_words()}; "
          f"{classroom.base.audience.size:,} followers, {len(classroom.seeds)} seeds\n"
          f"  teacher (this machine only): {teacher}\n"
          f"  students:                    {classroom.student_address}\n"
          f"  class folder: {classroom.folder} (carry on later with --class-folder "
          f"{classroom.folder})\nNothing is fetched from the internet. Ctrl-C stops the server.",
          flush=True)
    threading.Thread(target=classroom.warm_up, name="class-warm-up", daemon=True).start()
    config = uvicorn.Config(ClassApp(solara_app), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=3, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args, classroom, sock = prepare(argv)
    except UserError as error:
        sys.stderr.write(f"sim.app --class: {error}\n")
        sys.exit(2)
    serve(classroom, sock, args.host)
