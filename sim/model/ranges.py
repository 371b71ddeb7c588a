"""A setting's allowed range, declared beside it.

A field made with :func:`setting` has no default (the YAML files of ``conf/`` carry the
values) and carries its range in ``metadata``; the configuration's checks read it and name
the first setting out of range. It is plain ``dataclasses``, so the model can declare its own
settings (a strategy's, say) without importing the configuration machinery.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

MISSING: Any = "???"  # OmegaConf's marker of a value that a YAML file must give


def setting(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
            hi_open: bool = False, choices: tuple[str, ...] | None = None, doc: str = "") -> Any:
    """A field with no default and its allowed range: lo <= value <= hi (or < when open)."""
    return field(default=MISSING, metadata={"lo": lo, "hi": hi, "lo_open": lo_open,
                                            "hi_open": hi_open, "choices": choices, "doc": doc})


PROBABILITY = {"lo": 0.0, "hi": 1.0}
