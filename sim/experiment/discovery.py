"""Where the essay's claim fails: scenario discovery over the runs of a sensitivity study.

A sample *holds* when steady both kept more followers and won more actions than burst (mean
over its seeds). PRIM (the patient rule induction method, from the EMA workbench) finds boxes
of parameter space where it does not: each box is a few limits on a few parameters, with its
*coverage* (the share of all failing samples that fall in it) and *density* (the share of the
samples in it that fail). The regime map shows, over two parameters, the chance that steady
wins: a Gaussian kernel average of the samples' verdicts on the unit square of the two ranges.
The EMA workbench is imported only when PRIM runs (it is an optional extra).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.config.uncertainty import Range
from sim.errors import SettingError

THRESHOLD = 0.5  # a box counts if at least half the samples in it fail
MASS_MIN = 0.05  # and it holds at least 5 % of the samples
MOST_BOXES = 3
QP_MAX = 0.05  # a restriction whose quasi-p value is above this is dropped as chance
FEW = 20  # a box with fewer samples is reported as a hint
GRID = 41  # regime map: points per axis
BANDWIDTH = 0.15  # of the unit range, for the kernel average
SUPPORT = 1.0  # kernel weight below which the map is left blank (about one sample nearby)
BOX_COLUMNS = ["box", "coverage", "density", "mass", "samples", "failures", "parameter", "low",
               "high", "low_restricted", "high_restricted", "qp_low", "qp_high"]


def claim_holds(samples: pd.DataFrame) -> pd.Series:
    """Whether steady beat burst on both followers kept and actions won."""
    return (samples["d_followers_pct"] > 0) & (samples["d_actions"] > 0)


def _prim():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "ipyparallel not installed" and the like
            from ema_workbench.analysis import prim  # noqa: PLC0415
    except ImportError:
        raise SettingError("Scenario discovery needs the EMA workbench, which is not "
                           "installed: pip install 'sim[uncertainty]'.") from None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def boxes(x: pd.DataFrame, interest: np.ndarray, threshold: float = THRESHOLD,
          mass_min: float | None = None, most: int = MOST_BOXES) -> pd.DataFrame:
    """PRIM's boxes around the cases of interest (``interest`` True), one row per box and
    restricted parameter. On each box's peeling trajectory the box taken is the one with the
    largest coverage x density among those at least ``threshold`` dense and ``mass_min``
    massive; then the next box is sought among the points left. ``mass_min`` is by default
    5 % of the samples, or less when failures are rarer (half their share, at least 3
    samples), so that a small region where the claim fails can still be found."""
    interest = np.asarray(interest, bool)
    if len(x) == 0 or not interest.any() or interest.all():
        return pd.DataFrame(columns=BOX_COLUMNS)
    if mass_min is None:
        mass_min = min_mass(len(x), int(interest.sum()))
    prim = _prim()
    x = x.reset_index(drop=True).astype(float)
    varying = [c for c in x.columns if x[c].nunique() > 1]
    if not varying:
        return pd.DataFrame(columns=BOX_COLUMNS)
    x = x[varying]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, interest.astype(int), threshold=threshold, peel_alpha=0.05,
                      paste_alpha=0.05, mass_min=mass_min)
        init = p.box_init
        for number in range(1, most + 1):
            box = p.find_box()
            if box is None:
                break
            t = box.peeling_trajectory
            good = t[(t.density >= threshold) & (t.mass >= mass_min) & (t.res_dim > 0)]
            if good.empty:
                break
            i = int((good.coverage * good.density).idxmax())
            box.select(i)
            i = _significant(box, i, init, x.columns)
            stats, lims, qp = box.peeling_trajectory.loc[i], box.box_lims[i], box.qp[i]
            if stats.density < threshold or stats.res_dim == 0:  # nothing left but chance
                break
            for key in x.columns:
                lo, hi = float(lims.loc[0, key]), float(lims.loc[1, key])
                lo_r, hi_r = lo > float(init.loc[0, key]), hi < float(init.loc[1, key])
                if not (lo_r or hi_r):
                    continue
                q = qp.get(key, [np.nan, np.nan])
                rows.append({"box": number, "coverage": float(stats.coverage),
                             "density": float(stats.density), "mass": float(stats.mass),
                             "samples": int(stats.n), "failures": int(stats.k),
                             "parameter": key, "low": lo, "high": hi,
                             "low_restricted": lo_r, "high_restricted": hi_r,
                             "qp_low": _qp(q[0]), "qp_high": _qp(q[1])})
    return pd.DataFrame(rows, columns=BOX_COLUMNS)


def _significant(box, i: int, init: pd.DataFrame, columns) -> int:
    """Drop, one at a time, the restriction least likely to be more than chance (the largest
    quasi-p above ``QP_MAX``); returns the box's entry on the trajectory."""
    while True:
        lims, qp = box.box_lims[i], box.qp[i]
        worst, worst_qp = None, QP_MAX
        for key in columns:
            sides = [_qp(q) for q, restricted in zip(
                qp.get(key, [-1, -1]), (float(lims.loc[0, key]) > float(init.loc[0, key]),
                                        float(lims.loc[1, key]) < float(init.loc[1, key])))
                     if restricted]
            sides = [q for q in sides if not np.isnan(q)]
            if sides and min(sides) > worst_qp:
                worst, worst_qp = key, min(sides)
        if worst is None:
            return i
        box.drop_restriction(worst, i)
        i = len(box.peeling_trajectory) - 1


def min_mass(samples: int, failures: int) -> float:
    """The smallest box PRIM may return: 5 % of the samples, or half the failures' share
    when that is less, but never under 3 samples."""
    return min(MASS_MIN, max(failures / samples / 2, 3 / samples))


def _qp(value) -> float:
    """A quasi-p value (Bryant and Lempert 2010); the workbench writes -1 for a side that is
    not restricted."""
    value = float(value)
    return np.nan if value < 0 else value


def describe_boxes(table: pd.DataFrame, samples: int, failures: int) -> list[str]:
    """The boxes in words, for the report."""
    head = (f"Where the claim fails (PRIM over the {samples} finished samples; the {failures} "
            f"in which steady did not win on both are the cases of interest):")
    if failures == 0:
        return [head, "  Steady won on both in every finished sample: there is no region where "
                      "the claim fails to find."]
    if failures == samples:
        return [head, "  Steady won on both in no finished sample: the claim fails everywhere "
                      "the design looked."]
    if table.empty:
        return [head, f"  PRIM found no box in which at least {THRESHOLD:.0%} of the samples "
                      f"fail and that holds at least {min_mass(samples, failures):.1%} of them: "
                      f"the failures are scattered (seed noise near a margin of zero, or spread "
                      f"thinly over the ranges)."]
    lines = [head]
    for number, box in table.groupby("box", sort=True):
        first = box.iloc[0]
        limits = " and ".join(_limit(r) for r in box.itertuples())
        lines.append(f"  Box {number}: {limits}. It holds {first.coverage:.0%} of the samples "
                     f"where the claim fails (coverage); {first.density:.0%} of the samples in "
                     f"it fail (density); it is {first.mass:.0%} of all samples "
                     f"({first.failures} of {first.samples}).")
        if first.samples < FEW:
            lines.append(f"    Only {first.samples} samples lie in it: a hint where to look "
                         f"(a Morris trajectory's samples share most values), not a finding.")
    lines.append(f"  (Limits whose quasi-p value was above {QP_MAX} were dropped as chance; "
                 f"each limit's qp is in boxes.csv.)")
    return lines


def _limit(r) -> str:
    if r.low_restricted and r.high_restricted:
        return f"{r.parameter} between {r.low:.3g} and {r.high:.3g}"
    if r.low_restricted:
        return f"{r.parameter} >= {r.low:.3g}"
    return f"{r.parameter} <= {r.high:.3g}"


# --- the regime map -----------------------------------------------------------------------------

def _unit(r: Range, values) -> np.ndarray:
    v = np.asarray(values, float)
    if r.scale == "log":
        return (np.log(v) - np.log(r.low)) / (np.log(r.high) - np.log(r.low))
    return (v - r.low) / (r.high - r.low)


def regime(ranges, x: pd.DataFrame, holds: np.ndarray, keys: list[str],
           grid: int = GRID, bandwidth: float = BANDWIDTH) -> pd.DataFrame:
    """The chance that steady wins over a grid of two parameters: at each point, the average of
    the samples' verdicts weighted by a Gaussian kernel on the unit square of the two ranges
    (each on its own scale); ``support`` is the kernel weight behind it (about how many samples
    lie within a bandwidth). The other parameters count as they were sampled."""
    by_key = {r.key: r for r in ranges}
    a, b = (by_key[k] for k in keys)
    ua, ub = _unit(a, x[keys[0]]), _unit(b, x[keys[1]])
    g = np.linspace(0.0, 1.0, grid)
    ga, gb = np.meshgrid(g, g, indexing="xy")
    d2 = (ga.ravel()[:, None] - ua[None, :]) ** 2 + (gb.ravel()[:, None] - ub[None, :]) ** 2
    w = np.exp(-0.5 * d2 / bandwidth**2)
    support = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (w * np.asarray(holds, float)[None, :]).sum(axis=1) / support
    p[support < SUPPORT] = np.nan
    return pd.DataFrame({keys[0]: a.from_unit(ga.ravel()), keys[1]: b.from_unit(gb.ravel()),
                         f"u:{keys[0]}": ga.ravel(), f"u:{keys[1]}": gb.ravel(),
                         "p_steady_wins": p, "support": support})


def regime_figure(ranges, grid: pd.DataFrame, keys: list[str], points: pd.DataFrame,
                  study=None) -> Figure:
    """The regime map: the chance that steady wins on both, over two parameters, with the
    samples it rests on and the line where the chance is one half."""
    by_key = {r.key: r for r in ranges}
    a, b = (by_key[k] for k in keys)
    n = int(round(np.sqrt(len(grid))))
    xa = grid[keys[0]].to_numpy().reshape(n, n)
    xb = grid[keys[1]].to_numpy().reshape(n, n)
    p = grid["p_steady_wins"].to_numpy().reshape(n, n)
    fig = Figure(figsize=(7.2, 5.8), layout="constrained")
    ax = fig.subplots()
    ax.set_facecolor("0.82")  # where too few samples lie near to say
    # red: burst at least as good; blue: steady wins
    mesh = ax.pcolormesh(xa, xb, p, cmap="RdBu", vmin=0, vmax=1, shading="nearest")
    if np.nanmin(p) < 0.5 < np.nanmax(p):
        ax.contour(xa, xb, np.nan_to_num(p, nan=0.5), levels=[0.5], colors="k",
                   linewidths=1.2)
    wins = points["holds"].to_numpy(bool)
    ax.scatter(points[keys[0]][wins], points[keys[1]][wins], s=16, marker="o",
               facecolor="white", edgecolor="navy", lw=0.8, label="steady wins on both",
               clip_on=False, zorder=3)
    ax.scatter(points[keys[0]][~wins], points[keys[1]][~wins], s=20, marker="x",
               color="black", lw=1.0, label="steady does not", clip_on=False, zorder=4)
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for r, axis, set_scale in ((a, ax.xaxis, ax.set_xscale), (b, ax.yaxis, ax.set_yscale)):
        if r.scale == "log":
            set_scale("log")
            axis.set_major_formatter(plain)
            axis.set_minor_formatter(plain)
    ax.tick_params(which="minor", labelsize=7)
    ax.set_xlim(a.low, a.high)
    ax.set_ylim(b.low, b.high)
    ax.set_xlabel(keys[0])
    ax.set_ylabel(keys[1])
    fig.colorbar(mesh, ax=ax, label="chance that steady beats burst on both")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
    where = (f"{study.size:,} followers, {study.days} days, " if study is not None else "")
    ax.set_title(f"Where steady beats burst ({where}{len(points)} samples; the other\n"
                 f"parameters as sampled; black line: a chance of one half; grey: too few "
                 f"samples near)", fontsize=9)
    return fig
