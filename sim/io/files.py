"""Files are written whole: to a temporary name in the same folder, then renamed into place,
so a crash or a kill never leaves half a file (or half a set of files) behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.errors import SettingError


def require_parquet(what: str) -> None:
    """Refuse, before anything is written, a command that writes Parquet without pyarrow."""
    try:
        import pyarrow  # noqa: F401, PLC0415
    except ImportError:
        raise SettingError(f"{what} writes Parquet tables, which needs pyarrow, and it is not "
                           f"installed: pip install 'sim[uncertainty]'.") from None


def write_whole(path: Path, write: Callable[[str], None]) -> None:
    """Write through ``write(tmp_path)`` to a temporary name, then rename: never half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(df: pd.DataFrame, path: Path) -> None:
    write_whole(path, lambda tmp: df.to_csv(tmp, index=False))


def write_folder(out: Path, files: dict[str, Callable[[str], None]]) -> None:
    """Several files into ``out``, each through ``write(tmp_path)``: all are written into a
    staging folder first and then renamed into place, so a crash leaves the previous set, not
    half of a new one."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging.", dir=out))
    try:
        for name, write in files.items():
            write(str(staging / name))
        for item in staging.iterdir():
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
