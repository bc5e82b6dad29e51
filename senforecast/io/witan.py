"""Read witan.send model inputs into senforecast's canonical tables.

witan.send (Mastodon C, EPL-1.0) takes four CSV files:

* ``transitions.csv``: one row per child per pair of censuses: ``calendar-year, setting-1,
  need-1, academic-year-1, setting-2, need-2, academic-year-2`` (joiners come from and leavers
  go to ``NONSEND``);
* ``population.csv``: ``calendar-year, academic-year, population``;
* ``valid-states.csv``: ``setting, setting-group, min-academic-year, max-academic-year, needs,
  setting->setting`` (needs a setting takes, its NCY range and the settings a child may move to);
* ``costs.csv``: ``need, setting, cost``.

The readers return the tables of ``docs/contracts.md`` with ``area = "ALL"`` (witan.send has
no areas). The valid-states file becomes a provision-style table (one row per setting, with
``designation`` = the needs joined by ``;``) plus a ``moves_to`` column listing the settings a
child may move to, which :class:`senforecast.models.cohort.states.ValidStates` reads.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.data import NO_PLAN, LocalAreaData
from ..core.errors import InputValidationError, Problem

__all__ = [
    "read_witan_transitions",
    "read_witan_population",
    "read_witan_valid_states",
    "read_witan_costs",
    "read_witan_inputs",
    "load_witan_demo",
]

_TRANSITION_COLS = ("calendar-year", "setting-1", "need-1", "academic-year-1",
                    "setting-2", "need-2", "academic-year-2")


def _read(path: str | Path | pd.DataFrame, required: tuple[str, ...], name: str) -> tuple[pd.DataFrame, str]:
    if isinstance(path, pd.DataFrame):
        frame, source = path.copy(), name
    else:
        source = str(path)
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            raise InputValidationError([Problem(source, None, None, f"file not found; expected the witan.send {name}")]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputValidationError([
            Problem(source, None, c, f"required column is missing from the witan.send {name} "
                    f"(expected columns {', '.join(required)})") for c in missing
        ])
    return frame, source


def _integers(frame: pd.DataFrame, cols: tuple[str, ...], source: str) -> dict[str, np.ndarray]:
    problems, out = [], {}
    for c in cols:
        values = pd.to_numeric(frame[c].astype(str).str.strip(), errors="coerce")
        bad = values.isna() | (values % 1 != 0)
        for i in np.flatnonzero(bad.to_numpy())[:50]:
            problems.append(Problem(source, int(i) + 2, c, "expected a whole number", frame[c].iloc[i]))
        out[c] = values.fillna(0).to_numpy().astype(np.int64)
    if problems:
        raise InputValidationError(problems)
    return out


def _codes(frame: pd.DataFrame, cols: tuple[str, ...], source: str) -> dict[str, np.ndarray]:
    problems, out = [], {}
    for c in cols:
        values = frame[c].astype(str).str.strip()
        for i in np.flatnonzero((values == "").to_numpy())[:50]:
            problems.append(Problem(source, int(i) + 2, c, "code is empty"))
        out[c] = values.to_numpy()
    if problems:
        raise InputValidationError(problems)
    return out


def read_witan_transitions(path: str | Path | pd.DataFrame, *, area: str = "ALL") -> pd.DataFrame:
    """Read a witan.send ``transitions.csv`` into the canonical transitions table.

    Parameters
    ----------
    path : path or DataFrame
        The file (or an already-read frame with witan.send's column names).
    area : str
        Area label for every row (witan.send has none).

    Returns
    -------
    DataFrame
        ``year, area, ncy_from, need_from, setting_from, ncy_to, need_to, setting_to, kind,
        count`` with one row per distinct transition; ``count`` sums the children.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"calendar-year": [2016, 2016, 2016], "setting-1": ["NONSEND", "A", "A"],
    ...     "need-1": ["NONSEND", "X", "X"], "academic-year-1": [3, 5, 5],
    ...     "setting-2": ["A", "B", "NONSEND"], "need-2": ["X", "X", "NONSEND"],
    ...     "academic-year-2": [4, 6, 6]})
    >>> read_witan_transitions(raw)[["setting_from", "setting_to", "kind", "count"]].values.tolist()
    [['NONSEND', 'A', 'joiner', 1], ['A', 'NONSEND', 'leaver', 1], ['A', 'B', 'mover', 1]]
    """
    frame, source = _read(path, _TRANSITION_COLS, "transitions file")
    ints = _integers(frame, ("calendar-year", "academic-year-1", "academic-year-2"), source)
    codes = _codes(frame, ("setting-1", "need-1", "setting-2", "need-2"), source)
    problems = []
    for i in np.flatnonzero(ints["academic-year-2"] != ints["academic-year-1"] + 1)[:50]:
        problems.append(Problem(source, int(i) + 2, "academic-year-2",
                                "must be academic-year-1 + 1 (everyone ages one year)",
                                int(ints["academic-year-2"][i])))
    from_none = (codes["setting-1"] == NO_PLAN) | (codes["need-1"] == NO_PLAN)
    to_none = (codes["setting-2"] == NO_PLAN) | (codes["need-2"] == NO_PLAN)
    for i in np.flatnonzero(from_none & to_none)[:50]:
        problems.append(Problem(source, int(i) + 2, "setting-2",
                                f"a row from {NO_PLAN} to {NO_PLAN} is not a transition"))
    if problems:
        raise InputValidationError(problems)
    need_from = np.where(from_none, NO_PLAN, codes["need-1"])
    setting_from = np.where(from_none, NO_PLAN, codes["setting-1"])
    need_to = np.where(to_none, NO_PLAN, codes["need-2"])
    setting_to = np.where(to_none, NO_PLAN, codes["setting-2"])
    kind = np.select(
        [from_none, to_none, setting_from != setting_to, need_from != need_to],
        ["joiner", "leaver", "mover", "need_change"], default="stayer",
    )
    rows = pd.DataFrame({
        "year": ints["calendar-year"], "area": area,
        "ncy_from": ints["academic-year-1"], "need_from": need_from, "setting_from": setting_from,
        "ncy_to": ints["academic-year-2"], "need_to": need_to, "setting_to": setting_to, "kind": kind,
    })
    keys = list(rows.columns)
    out = rows.groupby(keys, as_index=False, sort=True).size().rename(columns={"size": "count"})
    out["count"] = out["count"].astype(np.int64)
    return out


def read_witan_population(path: str | Path | pd.DataFrame, *, area: str = "ALL") -> pd.DataFrame:
    """Read a witan.send ``population.csv`` into ``year, area, ncy, count``.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"calendar-year": [2017], "academic-year": [5], "population": [7140]})
    >>> read_witan_population(raw).values.tolist()
    [[2017, 'ALL', 5, 7140]]
    """
    frame, source = _read(path, ("calendar-year", "academic-year", "population"), "population file")
    ints = _integers(frame, ("calendar-year", "academic-year", "population"), source)
    out = pd.DataFrame({"year": ints["calendar-year"], "area": area, "ncy": ints["academic-year"],
                        "count": ints["population"]})
    dup = out.duplicated(["year", "ncy"])
    if dup.any():
        raise InputValidationError([Problem(source, int(i) + 2, "academic-year",
                                            "duplicate calendar-year and academic-year")
                                    for i in np.flatnonzero(dup.to_numpy())[:50]])
    return out.sort_values(["year", "ncy"]).reset_index(drop=True)


def read_witan_valid_states(path: str | Path | pd.DataFrame, *, area: str = "ALL") -> pd.DataFrame:
    """Read a witan.send ``valid-states.csv`` into a provision-style table.

    Returns
    -------
    DataFrame
        One row per setting: ``setting, name, kind, area, min_ncy, max_ncy, capacity
        (NaN: unknown), designation`` (needs joined by ``;``), ``opens, closes,
        cost_per_place`` (NaN), ``setting_group`` and ``moves_to`` (settings a child in this
        setting may move to, joined by ``;``).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"setting": ["A"], "setting-group": ["g"], "min-academic-year": [0],
    ...     "max-academic-year": [6], "needs": ["X,Y"], "setting->setting": ["A,B"]})
    >>> read_witan_valid_states(raw)[["setting", "min_ncy", "max_ncy", "designation", "moves_to"]].values.tolist()
    [['A', 0, 6, 'X;Y', 'A;B']]
    """
    cols = ("setting", "min-academic-year", "max-academic-year", "needs")
    frame, source = _read(path, cols, "valid-states file")
    ints = _integers(frame, ("min-academic-year", "max-academic-year"), source)
    codes = _codes(frame, ("setting", "needs"), source)
    problems = [Problem(source, int(i) + 2, "max-academic-year", "is below min-academic-year")
                for i in np.flatnonzero(ints["max-academic-year"] < ints["min-academic-year"])]
    dup = pd.Series(codes["setting"]).duplicated().to_numpy()
    problems += [Problem(source, int(i) + 2, "setting", "setting listed twice", codes["setting"][i])
                 for i in np.flatnonzero(dup)]
    if problems:
        raise InputValidationError(problems)

    def _join(s: str) -> str:
        return ";".join(p.strip() for p in str(s).split(",") if p.strip())

    moves = (frame["setting->setting"].map(_join) if "setting->setting" in frame.columns
             else pd.Series("*", index=frame.index))
    group = frame["setting-group"].astype(str) if "setting-group" in frame.columns else ""
    return pd.DataFrame({
        "setting": codes["setting"], "name": codes["setting"], "kind": "other", "area": area,
        "min_ncy": ints["min-academic-year"], "max_ncy": ints["max-academic-year"],
        "capacity": np.nan, "designation": [_join(s) for s in codes["needs"]],
        "opens": pd.array([pd.NA] * len(frame), dtype="Int64"),
        "closes": pd.array([pd.NA] * len(frame), dtype="Int64"),
        "cost_per_place": np.nan, "setting_group": np.asarray(group),
        "moves_to": moves.to_numpy(),
    })


def read_witan_costs(path: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a witan.send ``costs.csv`` into ``setting, need, cost_per_place``.

    Examples
    --------
    >>> import pandas as pd
    >>> read_witan_costs(pd.DataFrame({"need": ["X"], "setting": ["A"], "cost": ["1000.0"]})).values.tolist()
    [['A', 'X', 1000.0]]
    """
    frame, source = _read(path, ("need", "setting", "cost"), "costs file")
    cost = pd.to_numeric(frame["cost"], errors="coerce")
    bad = cost.isna() | (cost < 0)
    if bad.any():
        raise InputValidationError([Problem(source, int(i) + 2, "cost", "expected a cost of zero or more",
                                            frame["cost"].iloc[i]) for i in np.flatnonzero(bad.to_numpy())[:50]])
    return pd.DataFrame({"setting": frame["setting"].astype(str).str.strip(),
                         "need": frame["need"].astype(str).str.strip(),
                         "cost_per_place": cost.astype(float)})


def read_witan_inputs(folder: str | Path, *, name: str = "witan.send inputs") -> LocalAreaData:
    """Read a folder of witan.send inputs into a :class:`~senforecast.LocalAreaData`.

    ``transitions``, ``population``, ``provision`` (from ``valid-states.csv``, with
    ``moves_to``) and ``costs`` (when ``costs.csv`` exists) are filled; ``area`` is ``"ALL"``.

    Parameters
    ----------
    folder : str or Path
        Folder holding ``transitions.csv``, ``population.csv``, ``valid-states.csv`` and,
        optionally, ``costs.csv`` as witan.send writes them.
    name : str
        Authority name for reports.

    Returns
    -------
    LocalAreaData

    Examples
    --------
    Read the bundled demo folder (a local authority's own export reads the same way):

    >>> from importlib import resources
    >>> folder = resources.files("senforecast.datasets") / "data" / "witan_demo"
    >>> with resources.as_file(folder) as path:
    ...     d = read_witan_inputs(path, name="Demo")
    >>> d.name, sorted(d.transitions["area"].unique()), d.costs is not None
    ('Demo', ['ALL'], True)
    >>> d.plans is None  # witan.send inputs are transitions, not one row per child
    True
    """
    folder = Path(folder)
    costs = read_witan_costs(folder / "costs.csv") if (folder / "costs.csv").exists() else None
    return LocalAreaData(
        transitions=read_witan_transitions(folder / "transitions.csv"),
        population=read_witan_population(folder / "population.csv"),
        provision=read_witan_valid_states(folder / "valid-states.csv"),
        costs=costs,
        name=name,
    )


def load_witan_demo() -> LocalAreaData:
    """The witan.send demo inputs (Mastodon C, EPL-1.0), shipped with senforecast.

    Returns
    -------
    LocalAreaData
        Transitions for 2013-2016 (censuses 2013-2017), population 2013-2022 by NCY,
        19 settings (A-S) with valid needs T-Y, and costs.

    Examples
    --------
    >>> d = load_witan_demo()
    >>> int(d.transitions["count"].sum()), len(d.provision)
    (8351, 19)
    """
    folder = resources.files("senforecast.datasets") / "data" / "witan_demo"
    with resources.as_file(folder) as path:
        return read_witan_inputs(path, name="witan.send demo")
