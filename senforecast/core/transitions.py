"""Build transitions (joiners, leavers, movers, need changes, stayers) from plan-level censuses.

Consecutive January censuses are paired by ``pupil_id``: a child in census ``y`` and ``y + 1``
is a stayer, mover (setting changed) or need change; a child only in ``y + 1`` is a joiner
(from ``NO_PLAN``); a child only in ``y`` is a leaver (to ``NO_PLAN``). A row is labelled by
its first year ``y`` and by the child's area in census ``y`` (joiners: census ``y + 1``).

Every plan row is accounted for: each row of census ``y`` is the "from" side of exactly one
transition when census ``y + 1`` exists, and each row of census ``y + 1`` the "to" side of
exactly one. Anomalies are flagged and counted, never dropped (see
:func:`transition_anomalies`). The whole build is a single vectorised merge.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .codes import NO_PLAN, SETTING_KINDS
from .errors import InputValidationError, InputWarning, Problem, ValidationReport
from .provision import designation_text, period_rows, takes_need

TRANSITION_COLUMNS: tuple[str, ...] = (
    "year", "area", "ncy_from", "need_from", "setting_from", "ncy_to", "need_to", "setting_to",
    "kind", "count",
)
"""Columns of the transitions table (``docs/contracts.md``)."""

KINDS: tuple[str, ...] = ("joiner", "leaver", "mover", "need_change", "stayer")
"""Values of ``kind``: a setting change is a mover even if the need also changed."""

_REQUIRED = ("pupil_id", "year", "ncy", "need", "setting", "area")


def _check_plans(plans: pd.DataFrame, source: str) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in plans.columns]
    if missing:
        raise InputValidationError([Problem(source, None, c, "required column is missing "
                                            "(plans need pupil_id, year, ncy, need, setting, area)")
                                    for c in missing])
    p = plans.loc[:, list(_REQUIRED)].copy()
    # 1-based spreadsheet row (header is row 1), assuming the table is in file order; a table of
    # selected rows (LocalAreaData.select_series) carries the rows of the file in attrs["rows"]
    rows = plans.attrs.get("rows")
    p["row"] = (np.asarray(rows, dtype=np.int64) if rows is not None and len(rows) == len(p)
                else np.arange(len(p), dtype=np.int64) + 2)
    p.attrs = {}
    problems = []
    for c in _REQUIRED:
        bad = p[c].isna().to_numpy()
        problems += [Problem(source, int(r), c, "value is missing") for r in p["row"].to_numpy()[bad][:50]]
    dup = p.duplicated(["pupil_id", "year"], keep=False).to_numpy()
    problems += [Problem(source, int(r), "pupil_id", "the same child appears twice in one census year "
                         "(pupil_id and year must be unique)") for r in p["row"].to_numpy()[dup][:50]]
    if problems:
        raise InputValidationError(problems)
    p["year"] = p["year"].astype(np.int64)
    p["ncy"] = p["ncy"].astype(np.int64)
    for c in ("need", "setting", "area"):
        p[c] = p[c].astype(str)
    return p


def _pairs(plans: pd.DataFrame, years, source: str, checked: pd.DataFrame | None = None):
    p = _check_plans(plans, source) if checked is None else checked
    present = np.unique(p["year"].to_numpy())
    first = [int(y) for y in present if y + 1 in set(present.tolist())]
    if years is not None:
        wanted = {int(y) for y in np.atleast_1d(years)}
        first = [y for y in first if y in wanted]
    gaps = [int(y) + 1 for y in present[:-1] if y + 1 not in set(present.tolist())]
    a = p[p["year"].isin(first)]
    b = p[p["year"].isin([y + 1 for y in first])].assign(year=lambda d: d["year"] - 1)
    m = a.merge(b, on=["pupil_id", "year"], how="outer", suffixes=("_from", "_to"), indicator=True)
    m = m.drop(columns="pupil_id")  # ids never leave this function
    return m, gaps


def build_transitions(plans: pd.DataFrame, years=None, *, ncy_anomalies: str = "advance",
                      aggregate: bool = True, report: ValidationReport | None = None,
                      warn: bool = True, source: str = "plans") -> pd.DataFrame:
    """Transitions between consecutive censuses, in the ``docs/contracts.md`` layout.

    Parameters
    ----------
    plans : DataFrame
        One row per child per census: ``pupil_id, year, ncy, need, setting, area``.
    years : int or sequence of int, optional
        First years of the pairs to build (default: every ``y`` with a census ``y + 1``).
    ncy_anomalies : {"advance", "keep"}
        A child whose NCY does not go up by exactly one (held back, skipped a year, data
        error) is kept and flagged. ``"advance"`` (default) records ``ncy_to = ncy_from + 1`` as
        the contract requires, so cohort models treat the child as moving on with their age
        group; ``"keep"`` keeps the NCY seen in the second census.
    aggregate : bool
        True: one row per distinct transition with ``count``. False: one row per child pair
        (``count`` = 1) with ``row_from``/``row_to``, the spreadsheet rows of the plans table
        (header = row 1) - no pupil ids.
    report : ValidationReport, optional
        Receives counts (``transitions.<kind>``, ``transitions.ncy_not_advancing``,
        ``transitions.area_changed``) and a warning per anomaly type.
    warn : bool
        Also issue :class:`~senforecast.core.errors.InputWarning` for anomalies (default True).
    source : str
        Name of the plans table in messages.

    Returns
    -------
    DataFrame
        ``year, area, ncy_from, need_from, setting_from, ncy_to, need_to, setting_to, kind,
        count``. Joiners have need/setting ``NO_PLAN`` on the from side, leavers on the to side.

    Examples
    --------
    >>> plans = pd.DataFrame({"pupil_id": ["a", "a", "b", "c"], "year": [2024, 2025, 2024, 2025],
    ...     "ncy": [3, 4, 7, 0], "need": ["ASD", "ASD", "MLD", "SLD"],
    ...     "setting": ["MS", "RB", "MS", "SS"], "area": ["N", "N", "S", "S"]})
    >>> t = build_transitions(plans)
    >>> t[["area", "ncy_from", "setting_from", "setting_to", "kind"]].values.tolist()
    [['N', 3, 'MS', 'RB', 'mover'], ['S', -1, 'NONSEND', 'SS', 'joiner'], ['S', 7, 'MS', 'NONSEND', 'leaver']]
    """
    if ncy_anomalies not in {"advance", "keep"}:
        raise ValueError(f"ncy_anomalies must be 'advance' or 'keep', not {ncy_anomalies!r}")
    m, gaps = _pairs(plans, years, source)
    ind = m.pop("_merge").to_numpy()
    join, leave, both = ind == "right_only", ind == "left_only", ind == "both"

    ncy_from = m["ncy_from"].to_numpy(dtype=float)
    ncy_to = m["ncy_to"].to_numpy(dtype=float)
    ncy_from = np.where(join, ncy_to - 1, ncy_from)
    ncy_to = np.where(leave, ncy_from + 1, ncy_to)
    not_adv = both & (ncy_to != ncy_from + 1)
    if ncy_anomalies == "advance":
        ncy_to = np.where(not_adv, ncy_from + 1, ncy_to)

    need_from = m["need_from"].fillna(NO_PLAN).to_numpy(dtype=object)
    need_to = m["need_to"].fillna(NO_PLAN).to_numpy(dtype=object)
    set_from = m["setting_from"].fillna(NO_PLAN).to_numpy(dtype=object)
    set_to = m["setting_to"].fillna(NO_PLAN).to_numpy(dtype=object)
    area = np.where(join, m["area_to"].to_numpy(dtype=object), m["area_from"].to_numpy(dtype=object))
    area_changed = both & (m["area_from"].to_numpy(dtype=object) != m["area_to"].to_numpy(dtype=object))

    kind = np.select(
        [join, leave, set_from != set_to, need_from != need_to],
        ["joiner", "leaver", "mover", "need_change"], default="stayer",
    )
    out = pd.DataFrame({
        "year": m["year"].to_numpy(dtype=np.int64), "area": area,
        "ncy_from": ncy_from.astype(np.int64), "need_from": need_from, "setting_from": set_from,
        "ncy_to": ncy_to.astype(np.int64), "need_to": need_to, "setting_to": set_to,
        "kind": kind, "count": np.ones(len(m), dtype=np.int64),
    })
    for c in ("area", "need_from", "setting_from", "need_to", "setting_to", "kind"):
        out[c] = out[c].astype(str)

    _report(report, out, int(not_adv.sum()), int(area_changed.sum()), gaps, source, warn)
    if not aggregate:
        out["row_from"] = m["row_from"].astype("Int64").to_numpy()
        out["row_to"] = m["row_to"].astype("Int64").to_numpy()
        return out.sort_values(["year", "area", "ncy_from", "kind"], kind="stable").reset_index(drop=True)
    keys = list(TRANSITION_COLUMNS[:-1])
    return (out.groupby(keys, sort=True, observed=True)["count"].sum().reset_index()
            .loc[:, list(TRANSITION_COLUMNS)])


def _report(report, out, n_not_adv, n_area, gaps, source, warn=True):
    msgs = []
    if n_not_adv:
        msgs.append(f"{n_not_adv} child(ren) whose NCY did not go up by one between censuses are kept "
                    "and flagged (see transition_anomalies)")
    if gaps:
        msgs.append(f"no census for year(s) {', '.join(map(str, gaps))}: children either side of a gap "
                    "are not paired")
    if report is not None:
        for k, n in out["kind"].value_counts().items():
            report.count(f"transitions.{k}", int(n))
        report.count("transitions.ncy_not_advancing", n_not_adv)
        report.count("transitions.area_changed", n_area)
        for msg in msgs:
            report.warn(Problem(source, None, None, msg))
    for msg in msgs if warn else []:
        warnings.warn(f"{source}: {msg}", InputWarning, stacklevel=3)


def _active_provision(provision: pd.DataFrame, p: pd.DataFrame) -> pd.DataFrame:
    """Attach to each plan row the provision row of its setting in force in its year
    (:func:`senforecast.core.provision.period_rows`: the open period, else the nearest)."""
    provision = getattr(provision, "table", provision)  # a ProvisionRegister or its table
    prov = provision.loc[:, ["setting", "min_ncy", "max_ncy", "designation", "opens", "closes"]].reset_index(drop=True)
    prov["setting"] = prov["setting"].astype(str)
    pos, is_open = period_rows(prov, p["setting"].astype(str).to_numpy(), p["year"].to_numpy())
    x = p.reset_index(drop=True).copy()
    known = pos >= 0
    for col in ("min_ncy", "max_ncy", "designation"):
        x[col] = prov[col].to_numpy(dtype=object)[np.where(known, pos, 0)] if len(prov) else None
        x.loc[~known, col] = None
    x["_active"] = is_open & known
    x["_known"] = known
    return x


def transition_anomalies(plans: pd.DataFrame, provision: pd.DataFrame | None = None, years=None,
                         *, source: str = "plans") -> pd.DataFrame:
    """Tidy report of anomalies in plans, one row per flagged plan row (no pupil ids).

    Anomalies (the rows are kept everywhere else; this only lists them):

    * ``ncy_not_advancing``: NCY in census ``y + 1`` is not NCY in ``y`` plus one (``row`` is
      the second census row, ``year`` the first year, ``detail`` e.g. ``"5 -> 5"``);
    * ``area_changed``: the child's area differs between the two censuses (informational);
    * with ``provision``: ``setting_not_in_provision`` (a setting kind such as ``mainstream``
      is accepted as a setting), ``setting_not_open`` (no capacity
      period covers the year), ``ncy_outside_setting_range`` and ``need_not_in_designation``.

    Parameters
    ----------
    plans : DataFrame
    provision : DataFrame, optional
        Register with ``setting, min_ncy, max_ncy, designation, opens, closes``.
    years : sequence of int, optional
        First years of the census pairs checked for NCY anomalies.
    source : str

    Returns
    -------
    DataFrame
        ``anomaly, year, row, area, setting, ncy, need, detail``. Count them with
        ``.groupby(["anomaly", "year"]).size()``.

    Examples
    --------
    >>> plans = pd.DataFrame({"pupil_id": ["a", "a"], "year": [2024, 2025], "ncy": [5, 5],
    ...     "need": ["ASD", "ASD"], "setting": ["RB1", "RB1"], "area": ["N", "N"]})
    >>> prov = pd.DataFrame({"setting": ["RB1"], "min_ncy": [0], "max_ncy": [4],
    ...     "designation": ["ASD"], "opens": [pd.NA], "closes": [pd.NA]})
    >>> a = transition_anomalies(plans, prov)
    >>> a.groupby("anomaly").size().to_dict()
    {'ncy_not_advancing': 1, 'ncy_outside_setting_range': 2}
    >>> a[["year", "row", "detail"]].values.tolist()[0]
    [2024, 3, '5 -> 5']
    """
    p = _check_plans(plans, source)
    m, _ = _pairs(plans, years, source, checked=p)
    both = m["_merge"].to_numpy() == "both"
    b = m[both]
    parts = []
    na = b[b["ncy_to"] != b["ncy_from"] + 1]
    parts.append(pd.DataFrame({
        "anomaly": "ncy_not_advancing", "year": na["year"], "row": na["row_to"], "area": na["area_to"],
        "setting": na["setting_to"], "ncy": na["ncy_to"], "need": na["need_to"],
        "detail": na["ncy_from"].astype(int).astype(str) + " -> " + na["ncy_to"].astype(int).astype(str)}))
    ac = b[b["area_from"] != b["area_to"]]
    parts.append(pd.DataFrame({
        "anomaly": "area_changed", "year": ac["year"], "row": ac["row_to"], "area": ac["area_to"],
        "setting": ac["setting_to"], "ncy": ac["ncy_to"], "need": ac["need_to"],
        "detail": ac["area_from"].astype(str) + " -> " + ac["area_to"].astype(str)}))
    if provision is not None:
        x = _active_provision(provision, p)
        known = x["_known"].to_numpy(dtype=bool)
        generic = x["setting"].isin(SETTING_KINDS).to_numpy(dtype=bool)  # e.g. plain 'mainstream'
        active = x["_active"].to_numpy(dtype=bool)
        lo = pd.to_numeric(x["min_ncy"], errors="coerce").to_numpy()
        hi = pd.to_numeric(x["max_ncy"], errors="coerce").to_numpy()
        ncy = x["ncy"].to_numpy()
        out_range = known & ((ncy < lo) | (ncy > hi))
        x["designation"] = x["designation"].map(designation_text)
        # check each distinct (designation, need) pair once, not each row
        pairs = x[["designation", "need"]].drop_duplicates()
        pairs["_bad"] = [not takes_need(d, n) for d, n in zip(pairs["designation"], pairs["need"])]
        wrong_need = known & x.merge(pairs, on=["designation", "need"], how="left")["_bad"].to_numpy(dtype=bool)

        def fmt_range(d):
            return ("setting takes NCY " + d["min_ncy"].astype(int).astype(str) + " to "
                    + d["max_ncy"].astype(int).astype(str) + ", child in NCY " + d["ncy"].astype(str))

        details = {
            "setting_not_in_provision": (~known & ~generic, lambda d: "setting code is not in the provision register"),
            "setting_not_open": (known & ~active, lambda d: "no capacity period of the setting covers this year"),
            "ncy_outside_setting_range": (out_range, fmt_range),
            "need_not_in_designation": (wrong_need, lambda d: "setting designated for " + d["designation"]
                                        + ", child's need " + d["need"]),
        }
        for name, (mask, detail) in details.items():
            sub = x[mask]
            parts.append(pd.DataFrame({"anomaly": name, "year": sub["year"], "row": sub["row"],
                                       "area": sub["area"], "setting": sub["setting"], "ncy": sub["ncy"],
                                       "need": sub["need"], "detail": detail(sub)}))
    cols = ["anomaly", "year", "row", "area", "setting", "ncy", "need", "detail"]
    out = pd.concat([q for q in parts if len(q)] or [pd.DataFrame(columns=cols)], ignore_index=True)
    out = out.loc[:, cols]
    if len(out):
        out = out.astype({"year": np.int64, "row": np.int64, "ncy": np.int64})
    return out.sort_values(["anomaly", "year", "row"], kind="stable").reset_index(drop=True)


def stocks_from_transitions(transitions: pd.DataFrame, by=("area",)) -> pd.DataFrame:
    """Stocks (children with a plan) at both censuses of each transition year.

    ``stock_from`` counts non-joiner rows (children in census ``year``), ``stock_to`` non-leaver
    rows (census ``year + 1``), and ``joiners``/``leavers`` the flows, so that
    ``stock_to - stock_from == joiners - leavers``.

    Examples
    --------
    >>> t = pd.DataFrame({"year": [2024, 2024, 2024], "area": ["N", "N", "N"],
    ...     "kind": ["stayer", "joiner", "leaver"], "count": [5, 2, 1]})
    >>> stocks_from_transitions(t).to_dict("records")
    [{'year': 2024, 'area': 'N', 'stock_from': 6, 'stock_to': 7, 'joiners': 2, 'leavers': 1}]
    """
    keys = ["year", *by]
    t = transitions
    c = t["count"].to_numpy()
    k = t["kind"].to_numpy()
    tmp = t.loc[:, keys].assign(
        stock_from=np.where(k != "joiner", c, 0), stock_to=np.where(k != "leaver", c, 0),
        joiners=np.where(k == "joiner", c, 0), leavers=np.where(k == "leaver", c, 0))
    return tmp.groupby(keys, sort=True).sum().reset_index()
