"""Authority code changes: find them in the data, report them, and build stable areas.

Two kinds are found from the ``areas`` table (first and last year each code appears):

* ``recode`` - the same authority under a new ONS code (same old 3-digit code or name), e.g.
  Gateshead E08000020 -> E08000037 (2014), Buckinghamshire E10000002 -> E06000060 (2021);
* ``reorganisation`` - codes that stop after one census and codes that start at the next in the
  same region, e.g. Bournemouth, Poole and Dorset -> Bournemouth, Christchurch and Poole +
  Dorset (first census 2020), Northamptonshire -> North + West Northamptonshire (2022),
  Cumbria -> Cumberland + Westmorland and Furness (first census January 2024).

Codes that go back and forth cannot be seen from first and last years: the 2025 release puts
Buckinghamshire's 2024 and 2025 rows under the former county code E10000002 again; the reader
corrects that on reading (:data:`senforecast.io.england.CODE_FIXES`) so that here it is
one recode, E10000002 -> E06000060 (2021).

:func:`harmonise_areas` maps each code to a *stable area* whose series runs the whole period:
recodes to the latest code, reorganised authorities to their combined successors (codes
joined by ``+``). Nothing is dropped: counts of merged authorities are added up.
"""
from __future__ import annotations

import pandas as pd


def find_code_changes(areas: pd.DataFrame) -> pd.DataFrame:
    """List authority code changes found in an ``areas`` table.

    Parameters
    ----------
    areas : DataFrame
        ``area, la_name, old_la_code, region, first_year, last_year`` (from :func:`read_ehcp`).

    Returns
    -------
    DataFrame
        ``kind`` (recode / reorganisation / unexplained), ``year`` (first census under the new
        codes), ``old_codes``, ``new_codes``, ``old_names``, ``new_names``, ``stable_area``
        (the code the series is reported under) and ``stable_name``.

    Examples
    --------
    >>> areas = pd.DataFrame({"area": ["A1", "A2", "B", "C", "D"], "la_name": ["Gate", "Gate", "Big", "N", "W"],
    ...     "old_la_code": ["1", "1", "2", "3", "4"], "region": ["R"] * 5,
    ...     "first_year": [2010, 2014, 2010, 2022, 2022], "last_year": [2013, 2022, 2021, 2022, 2022]})
    >>> find_code_changes(areas)[["kind", "year", "old_codes", "stable_area"]].values.tolist()
    [['recode', 2014, 'A1', 'A2'], ['reorganisation', 2022, 'B', 'C+D']]
    """
    a = areas.copy()
    first, last = int(a["first_year"].min()), int(a["last_year"].max())
    ended = a[a["last_year"] < last]
    started = a[a["first_year"] > first]
    rows = []

    def add(kind, year, old, new, stable, stable_name):
        rows.append(dict(kind=kind, year=int(year), old_codes="+".join(old["area"]), new_codes="+".join(new["area"]),
                         old_names=" + ".join(old["la_name"]), new_names=" + ".join(new["la_name"]),
                         stable_area=stable, stable_name=stable_name))

    for (year, region), new in started.groupby(["first_year", "region"]):
        old = ended[(ended["last_year"] == year - 1) & (ended["region"] == region)].sort_values("area")
        new = new.sort_values("area")
        # same authority under a new code: the 3-digit old code is unchanged
        same = old.merge(new, on="old_la_code", suffixes=("_o", "_n"))
        for _, r in same.iterrows():
            add("recode", year, old[old["area"] == r["area_o"]], new[new["area"] == r["area_n"]], r["area_n"], r["la_name_n"])
        old = old[~old["area"].isin(same["area_o"])]
        new = new[~new["area"].isin(same["area_n"])]
        if len(old) == 1 and len(new) == 1:
            add("recode", year, old, new, new["area"].iloc[0], new["la_name"].iloc[0])
        elif len(old) and len(new):
            # boundaries redrawn (e.g. Christchurch moved from Dorset to BCP): only the union is stable
            add("reorganisation", year, old, new, "+".join(new["area"]), " + ".join(new["la_name"]))
        elif len(new):
            add("unexplained", year, old, new, None, None)
    explained_old = {c for r in rows for c in r["old_codes"].split("+") if c}
    for _, r in ended[~ended["area"].isin(explained_old)].iterrows():
        rows.append(dict(kind="unexplained", year=int(r["last_year"]) + 1, old_codes=r["area"], new_codes="",
                         old_names=r["la_name"], new_names="", stable_area=None, stable_name=None))
    cols = ["kind", "year", "old_codes", "new_codes", "old_names", "new_names", "stable_area", "stable_name"]
    return pd.DataFrame(rows, columns=cols).sort_values(["year", "kind"], kind="stable").reset_index(drop=True)


def stable_area_map(areas: pd.DataFrame, changes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Map every code to its stable area: ``area, stable_area, stable_name, region``.

    Examples
    --------
    >>> areas = pd.DataFrame({"area": ["B", "C", "D"], "la_name": ["Big", "N", "W"],
    ...     "old_la_code": ["2", "3", "4"], "region": ["R"] * 3,
    ...     "first_year": [2010, 2022, 2022], "last_year": [2021, 2022, 2022]})
    >>> stable_area_map(areas)["stable_area"].tolist()
    ['C+D', 'C+D', 'C+D']
    """
    changes = find_code_changes(areas) if changes is None else changes
    mapping = {a: a for a in areas["area"]}
    names = dict(zip(areas["area"], areas["la_name"]))
    for _, ch in changes[changes["stable_area"].notna()].iterrows():
        for code in [*ch["old_codes"].split("+"), *ch["new_codes"].split("+")]:
            if code:
                mapping[code] = ch["stable_area"]
                names[ch["stable_area"]] = ch["stable_name"]
    # chains (a recoded authority that is later reorganised) resolve to the final stable code
    for _ in range(5):
        mapping = {k: mapping.get(v, v) for k, v in mapping.items()}
    out = areas[["area", "region"]].copy()
    out["stable_area"] = out["area"].map(mapping)
    out["stable_name"] = out["stable_area"].map(lambda s: names.get(s, s))
    return out[["area", "stable_area", "stable_name", "region"]]


def harmonise_areas(table: pd.DataFrame, areas: pd.DataFrame, changes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Re-express a tidy table on stable areas, adding up authorities that were merged.

    Parameters
    ----------
    table : DataFrame
        ``year, area, <dimension>, count``.
    areas : DataFrame
        The ``areas`` table the codes come from.
    changes : DataFrame, optional
        From :func:`find_code_changes` (found if not given).

    Returns
    -------
    DataFrame
        Same columns plus ``la_name`` and ``region``; ``area`` is the stable code. A count is
        missing when any part of a merged area is missing that year.

    Examples
    --------
    >>> areas = pd.DataFrame({"area": ["B", "C", "D"], "la_name": ["Big", "N", "W"],
    ...     "old_la_code": ["2", "3", "4"], "region": ["R"] * 3,
    ...     "first_year": [2010, 2022, 2022], "last_year": [2021, 2022, 2022]})
    >>> t = pd.DataFrame({"year": [2021, 2022, 2022], "area": ["B", "C", "D"], "age_group": "total",
    ...                   "count": [10.0, 6.0, 5.0]})
    >>> harmonise_areas(t, areas)[["year", "area", "count"]].values.tolist()
    [[2021, 'C+D', 10.0], [2022, 'C+D', 11.0]]
    """
    m = stable_area_map(areas, changes)
    dims = [c for c in table.columns if c not in {"year", "area", "count"}]
    t = table.merge(m, on="area", how="left")
    t["area"] = t["stable_area"].fillna(t["area"])
    g = t.assign(_missing=t["count"].isna()).groupby(["year", "area", *dims], sort=True, dropna=False)
    out = g["count"].sum().reset_index()
    out.loc[g["_missing"].any().to_numpy(), "count"] = float("nan")  # any part missing -> missing
    info = m.drop_duplicates("stable_area").set_index("stable_area")
    out["la_name"] = out["area"].map(info["stable_name"])
    out["region"] = out["area"].map(info["region"])
    return out
