"""The errors sim reports to a user in one paragraph, without a traceback.

Each says which setting, file or entry is at fault, what it was, and what is allowed. They
live here, below every other module, so that any floor can raise them without importing
another floor.
"""

from __future__ import annotations


class UserError(ValueError):
    """A user's mistake: the command lines print the message and exit with status 2."""


class SettingError(UserError):
    """A setting is out of range, unknown or inconsistent; the message says which and why."""


class StrategyError(RuntimeError):
    """A strategy cannot do what it was set to, or returned something that is not a plan."""


class CollectError(UserError):
    """A folder is not a sweep, or holds no runs."""


class CompareError(UserError):
    """A folder is not a sweep, or no run in it finished."""


class TournamentError(UserError):
    """The entries or the settings cannot make a tournament."""
