"""The class's submissions, kept by student on disk, so that neither a dropped page nor a
crashed server loses one.

A student is a random token their browser keeps in a cookie. Each student's latest
submission is one JSON file, ``<class folder>/submissions/<token>.json``, written whole (a
temporary file renamed into place); submitting again replaces it. A server started again on
the same class folder reads them back.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sim.apps.class_mode.submission import Refused, Submission
from sim.io.files import write_whole

log = logging.getLogger(__name__)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # also a safe file name


def new_student() -> str:
    """A token for a student who has not been seen yet."""
    return secrets.token_urlsafe(18)


def is_student(token: str | None) -> bool:
    return bool(token) and bool(TOKEN.match(token))


@dataclass(frozen=True)
class Record:
    """A student's latest submission, and when it came."""

    student: str
    submission: Submission
    submitted: str  # ISO time, to the second
    first: str  # when the student first submitted (to the microsecond): the list's order

    def to_json(self) -> dict:
        return {"student": self.student, "submitted": self.submitted, "first": self.first,
                "submission": self.submission.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> Record:
        return cls(data["student"], Submission.from_json(data["submission"]),
                   data["submitted"], data.get("first", data["submitted"]))


class Store:
    """Every student's latest submission, in memory and in ``folder`` (read back at start).
    At most ``capacity`` students; names are unique, whatever their case."""

    def __init__(self, folder: Path, capacity: int = 60) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.capacity = capacity
        self._lock = threading.Lock()
        self._records: dict[str, Record] = {}
        self.version = 0  # grows with every change: pages redraw when it moves
        for path in sorted(self.folder.glob("*.json")):
            try:
                record = Record.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError) as error:
                log.warning("class mode: skipped %s, which cannot be read (%s)", path, error)
                continue
            if record.student == path.stem and is_student(record.student):
                self._records[record.student] = record
        self.version = len(self._records)

    def get(self, student: str | None) -> Record | None:
        with self._lock:
            return self._records.get(student) if student else None

    def records(self) -> list[Record]:
        """Every student's latest submission, in the order the students first submitted."""
        with self._lock:
            return sorted(self._records.values(), key=lambda r: (r.first, r.student))

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def put(self, student: str, submission: Submission) -> Record:
        """Keep ``submission`` as the student's (replacing an earlier one), on disk first; or
        :class:`Refused` when the class is full or another student has the name."""
        if not is_student(student):
            raise Refused("", "This page has no valid student key: reload the page and submit "
                              "again.")
        with self._lock:
            earlier = self._records.get(student)
            if earlier is None and len(self._records) >= self.capacity:
                raise Refused("", f"The class is full: it takes {self.capacity} strategies and "
                                  f"has them all. Ask your teacher to join a team.")
            taken = next((r for r in self._records.values() if r.student != student and
                          r.submission.name.casefold() == submission.name.casefold()), None)
            if taken is not None:
                raise Refused("name", f"Name '{submission.name}' is taken by another student: "
                                      f"choose another name.")
            now = datetime.now()
            record = Record(student, submission, now.isoformat(timespec="seconds"),
                            earlier.first if earlier else now.isoformat())
            text = json.dumps(record.to_json(), indent=1, ensure_ascii=False)
            write_whole(self.folder / f"{student}.json",
                        lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
            self._records[student] = record
            self.version += 1
            return record

    def remove(self, student: str) -> Record | None:
        """Delete the student's submission (from disk first: one unlink, so the file is whole
        or gone); the removed record, or None if there was none."""
        with self._lock:
            record = self._records.get(student)
            if record is None or not is_student(student):
                return None
            (self.folder / f"{student}.json").unlink(missing_ok=True)
            del self._records[student]
            self.version += 1
            return record
