"""The run's tables: the hourly time series, the daily table and the one-row outcome."""

from __future__ import annotations

import pandas as pd

from sim.model.state import SUMMED
from sim.version import versions

TIMESERIES_COLUMNS = [
    "hour", "day", "followers", "follows", "unfollows", "mutes", "impressions", "engagements",
    "likes", "comments", "shares", "replies_given", "posts", "asks", "actions",
    *(f"mean_{name}" for name in SUMMED),  # as the follower's declaration marks them
    "flooding",  # of the hour's unfollows, those flooding caused (each split by hazard share)
]


def timeseries(model) -> pd.DataFrame:
    """One row per hour, from the model's DataCollector."""
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df["day"] = df["hour"] // 24
    return df[TIMESERIES_COLUMNS]


def daily(ts: pd.DataFrame, followers_start: int) -> pd.DataFrame:
    """One row per day: followers gained, lost (unfollows) and muting, in counts and in % of
    the followers at the start of the day; the net change (gains minus unfollows); and the
    share of the day's unfollows that flooding caused (the rest: baseline leaving)."""
    days = ts.groupby("day").agg(followers_end=("followers", "last"), follows=("follows", "sum"),
                                 unfollows=("unfollows", "sum"), mutes=("mutes", "sum"),
                                 asks=("asks", "sum"), actions=("actions", "sum"),
                                 flooding=("flooding", "sum")).reset_index()
    start = days.followers_end.shift(1, fill_value=followers_start)
    days.insert(1, "followers_start", start.astype(int))
    days["net_change"] = days.followers_end - days.followers_start
    for column in ("net_change", "follows", "unfollows", "mutes"):
        days[f"{column}_pct"] = 100.0 * days[column] / days.followers_start
    days["flooding_share"] = (days.flooding / days.unfollows.where(days.unfollows > 0)).fillna(0.0)
    return days.drop(columns="flooding")


def outcome(ts: pd.DataFrame, cfg, followers_start: int, strategy,
            label: str, flooding: float, engine: str) -> pd.DataFrame:
    """One row: the settings that matter, the seed, what the run achieved, and the versions
    of sim and of what its results depend on (mesa, numpy, numba, pandas, Python)."""
    recorded = versions()
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
        "version": recorded["sim"],
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
        **{f"{name}_version": v for name, v in recorded.items() if name != "sim"},
    }
    return pd.DataFrame([row])
