"""The run's tables: the hourly time series, the one-row outcome, and writing files whole."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

import sim

TIMESERIES_COLUMNS = [
    "hour", "day", "followers", "follows", "unfollows", "mutes", "impressions", "engagements",
    "likes", "comments", "shares", "replies_given", "posts", "asks", "actions",
    "mean_annoyance", "mean_balance",
]


def timeseries(model) -> pd.DataFrame:
    """One row per hour, from the model's DataCollector."""
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df["day"] = df["hour"] // 24
    return df[TIMESERIES_COLUMNS]


def daily(ts: pd.DataFrame, followers_start: int) -> pd.DataFrame:
    """One row per day: followers gained, lost (unfollows) and muting, in counts and in % of
    the followers at the start of the day; the net change (gains minus unfollows)."""
    days = ts.groupby("day").agg(followers_end=("followers", "last"), follows=("follows", "sum"),
                                 unfollows=("unfollows", "sum"), mutes=("mutes", "sum"),
                                 asks=("asks", "sum"), actions=("actions", "sum")).reset_index()
    start = days.followers_end.shift(1, fill_value=followers_start)
    days.insert(1, "followers_start", start.astype(int))
    days["net_change"] = days.followers_end - days.followers_start
    for column in ("net_change", "follows", "unfollows", "mutes"):
        days[f"{column}_pct"] = 100.0 * days[column] / days.followers_start
    return days


def outcome(ts: pd.DataFrame, cfg: DictConfig, followers_start: int, strategy,
            label: str, flooding: float, engine: str) -> pd.DataFrame:
    """One row: the settings that matter, the seed, the version, and what the run achieved."""
    end = int(ts["followers"].iloc[-1]) if len(ts) else followers_start
    unfollows = int(ts["unfollows"].sum())
    row = {
        "strategy": label,
        "audience": cfg.audience.name,
        "engine": engine,  # the one that ran (engine=auto chooses by size)
        "seed": cfg.seed,
        "days": cfg.days,
        "audience_size": cfg.audience.size,
        "posts_per_day": strategy.posts_per_day,
        "asks_budget": strategy.asks,
        "reply_share": strategy.reply_share,
        "version": sim.__version__,
        "followers_start": followers_start,
        "followers_end": end,
        "net_change_pct": 100.0 * (end - followers_start) / followers_start,
        "follows": int(ts["follows"].sum()),
        "unfollows": unfollows,
        "mutes": int(ts["mutes"].sum()),
        "impressions": int(ts["impressions"].sum()),
        "engagements": int(ts["engagements"].sum()),
        "comments": int(ts["comments"].sum()),
        "replies_given": int(ts["replies_given"].sum()),
        "actions": int(ts["actions"].sum()),
        "posts": int(ts["posts"].sum()),
        "asks": int(ts["asks"].sum()),
        "peak_hourly_unfollows": int(ts["unfollows"].max()) if len(ts) else 0,
        "flooding_share": flooding / unfollows if unfollows else 0.0,
    }
    return pd.DataFrame([row])


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
