"""The errors sim reports to a user in one paragraph, without a traceback.

Each says which setting, file or entry is at fault, what it was, and what is allowed. They
live here, below every other module, so that any floor can raise them without importing
another floor.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
LIBRARIES = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}


def users_frame(error: BaseException) -> str | None:
    """Where in a user's own code (not sim, not an installed library) an exception arose, as
    "file, line N": the innermost such frame, so an error raised inside numpy on behalf of the
    user's strategy points at the user's line. None when no frame is the user's."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename).resolve()
        if not path.is_file() or path.is_relative_to(PACKAGE):
            continue
        if any(path.is_relative_to(lib) for lib in LIBRARIES) or \
                {"site-packages", "dist-packages"} & set(path.parts):
            continue
        return f"{frame.filename}, line {frame.lineno}"
    return None


class UserError(ValueError):
    """A user's mistake: the command lines print the message and exit with status 2."""


class SettingError(UserError):
    """A setting is out of range, unknown or inconsistent; the message says which and why."""


class StrategyError(UserError):
    """A strategy cannot do what it was set to, or returned something that is not a plan."""


class CollectError(UserError):
    """A folder is not a sweep, or holds no runs."""


class CompareError(UserError):
    """A folder is not a sweep, or no run in it finished."""


class TournamentError(UserError):
    """The entries or the settings cannot make a tournament."""
