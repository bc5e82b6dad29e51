"""Need-code schemes and setting kinds (schemes themselves are data in ``schemes/*.csv``).

Bundled schemes (``list_schemes()``):

* ``wales_plasc`` (aliases ``wales_aln``, ``plasc``): the 15 major-need categories of the Welsh
  schools census (PLASC). StatsWales' table "Reports of additional learning or special
  educational needs in maintained schools by type of need, type of provision and year" uses the
  same 15 categories for statements and for school- and LA-maintained IDPs under the ALN
  system, so one scheme serves both. Groupings: ``area_of_need`` and ``wales_strategy`` (the
  categories of a Welsh strategy's "% of statements by category" table: ASD, PMED, CL =
  GLD+MLD+SLD+PMLD, BESD, SLCD, SENS = HI+VI+MSI, ADHD, SPLD = DYSL+DYSC+DYSP).
* ``england_sen2`` (aliases ``sen2``, ``england``): the 13 primary-need codes of the England
  school census and SEN2 return. Grouping: ``area_of_need``, ``sen2_broad``.

Crosswalks between the two (``schemes/crosswalks.csv``) are approximate where the schemes
differ (GLD -> MLD, ADHD -> SEMH, SPLD -> DYSL, ...; each has a note); OTH and NSA have no
Welsh equivalent and are reported as unmapped.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable, Mapping

import pandas as pd

from .errors import InputWarning, SenForecastError


NO_PLAN = "NONSEND"
"""Need and setting code of the 'no plan' state: joiners come from it, leavers go to it."""

SETTING_KINDS: tuple[str, ...] = (
    "mainstream", "resource_base", "special_school", "unit", "independent", "other_la", "post16",
    "alternative_provision", "other",
)
"""Allowed values of ``provision.kind``."""

OUT_OF_COUNTY_KINDS: frozenset[str] = frozenset({"independent", "other_la"})
"""Kinds counted as out-of-county / independent placements."""

SPECIALIST_KINDS: frozenset[str] = frozenset({"resource_base", "special_school", "unit"})
"""Kinds of local specialist provision whose places are planned."""


# --------------------------------------------------------------------------------------------
# Need-code schemes
# --------------------------------------------------------------------------------------------
# Schemes, groupings and crosswalks live in CSV files next to this module so an analyst can
# read (and copy) them; this module only loads and applies them.


def _read_scheme_csv(filename: str) -> pd.DataFrame:
    path = resources.files("senforecast").joinpath("schemes", filename)
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class NeedScheme:
    """A named list of need codes, with labels and groupings of codes.

    Parameters
    ----------
    name : str
        Scheme name, e.g. ``"wales_plasc"``.
    table : DataFrame
        One row per code: ``code, label`` and optionally ``area_of_need`` and ``aliases``
        (alternative spellings separated by ``;``).
    groupings : dict of str to dict, optional
        Named groupings, each a mapping ``code -> group code``.
    group_labels : dict of str to str, optional
        Labels of group codes.
    description : str

    Examples
    --------
    >>> s = get_scheme("wales_plasc")
    >>> "ASD" in s, len(s)
    (True, 15)
    >>> s.label("PMED")
    'Physical and medical difficulties'
    >>> s.grouping("wales_strategy")["MLD"]
    'CL'
    >>> list(s.normalise(["asd", "Dyslexia", "ZZZ"]))
    ['ASD', 'DYSL', 'ZZZ']
    """

    name: str
    table: pd.DataFrame
    groupings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    group_labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        """The need codes of the scheme, in the file's order."""
        return tuple(self.table["code"])

    def __contains__(self, code: object) -> bool:
        return code in set(self.codes)

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return (f"NeedScheme({self.name!r}, {len(self)} codes: {', '.join(self.codes)}; "
                f"groupings: {', '.join(self.groupings) or 'none'})")

    def label(self, code: str) -> str:
        """Plain-English label of a code (or of a group code of one of the groupings)."""
        labels = dict(zip(self.table["code"], self.table["label"]))
        if code in labels:
            return labels[code]
        if code in self.group_labels:
            return self.group_labels[code]
        raise SenForecastError(
            f"need code {code!r} is not in scheme {self.name!r}; known codes: {', '.join(self.codes)}"
        )

    @property
    def labels(self) -> dict[str, str]:
        """``code -> label`` for every code."""
        return dict(zip(self.table["code"], self.table["label"]))

    def grouping(self, name: str) -> dict[str, str]:
        """The mapping ``code -> group`` of a named grouping of this scheme."""
        if name not in self.groupings:
            raise SenForecastError(
                f"scheme {self.name!r} has no grouping {name!r}; "
                f"available: {', '.join(self.groupings) or 'none'} (add one with with_grouping)"
            )
        return dict(self.groupings[name])

    def with_grouping(self, name: str, mapping: Mapping[str, str | Iterable[str]],
                      labels: Mapping[str, str] | None = None) -> "NeedScheme":
        """A copy of the scheme with a user grouping added.

        ``mapping`` is either ``code -> group`` or ``group -> [codes]`` (as in a strategy
        table, e.g. ``{"CL": ["GLD", "MLD", "SLD", "PMLD"]}``). Codes not in the scheme raise.

        Examples
        --------
        >>> s = get_scheme("wales_plasc").with_grouping("mine", {"LEARN": ["GLD", "MLD"]})
        >>> s.grouping("mine")
        {'GLD': 'LEARN', 'MLD': 'LEARN'}
        """
        flat: dict[str, str] = {}
        for k, v in mapping.items():
            if isinstance(v, str):
                flat[k] = v
            else:
                for code in v:
                    flat[code] = k
        unknown = sorted(set(flat) - set(self.codes))
        if unknown:
            raise SenForecastError(
                f"grouping {name!r} uses codes not in scheme {self.name!r}: {', '.join(unknown)}"
            )
        groupings = {**self.groupings, name: flat}
        return NeedScheme(self.name, self.table, groupings,
                          {**self.group_labels, **(labels or {})}, self.description)

    def normalise(self, values) -> pd.Series:
        """Map codes case-insensitively (and known aliases) to the scheme's canonical codes.

        Values that match nothing are returned unchanged, so that validation can report them.
        """
        s = pd.Series(values, dtype=object)
        lookup: dict[str, str] = {}
        for code, aliases in zip(self.table["code"], self.table.get("aliases", [""] * len(self))):
            lookup[code.casefold()] = code
            for a in str(aliases).split(";"):
                if a.strip():
                    lookup[a.strip().casefold()] = code
        key = s.astype(str).str.strip().str.casefold()
        out = key.map(lookup)
        return out.where(out.notna(), s)

    def unknown(self, values) -> list[str]:
        """Sorted distinct values that are not codes of the scheme."""
        vals = pd.Series(values, dtype=object).dropna().astype(str).unique()
        known = set(self.codes)
        return sorted(v for v in vals if v not in known)


@lru_cache(maxsize=None)
def _registry() -> pd.DataFrame:
    return _read_scheme_csv("schemes.csv")


def list_schemes() -> pd.DataFrame:
    """The bundled need-code schemes: ``name, country, description, aliases, groupings``.

    Examples
    --------
    >>> sorted(list_schemes()["name"])
    ['england_sen2', 'wales_plasc']
    """
    reg = _registry().copy()
    reg["groupings"] = [", ".join(get_scheme(n).groupings) for n in reg["name"]]
    return reg.drop(columns="file")


def _resolve_name(name: str) -> str:
    reg = _registry()
    key = str(name).strip().casefold()
    for n, aliases in zip(reg["name"], reg["aliases"]):
        if key == n.casefold() or key in {a.strip().casefold() for a in aliases.split(";")}:
            return n
    raise SenForecastError(
        f"unknown need-code scheme {name!r}; bundled schemes: {', '.join(reg['name'])} "
        "(see senforecast.core.codes.list_schemes())"
    )


@lru_cache(maxsize=None)
def get_scheme(name: str) -> NeedScheme:
    """Load a bundled need-code scheme by name (or alias, e.g. ``"wales_aln"``, ``"sen2"``).

    Every scheme has the grouping ``area_of_need`` (the broad areas of the code of practice)
    plus those in ``schemes/groupings.csv``.

    Examples
    --------
    >>> get_scheme("sen2").name
    'england_sen2'
    >>> sorted(set(get_scheme("wales_plasc").grouping("wales_strategy").values()))
    ['ADHD', 'ASD', 'BESD', 'CL', 'PMED', 'SENS', 'SLCD', 'SPLD']
    """
    name = _resolve_name(name)
    reg = _registry().set_index("name")
    table = _read_scheme_csv(reg.loc[name, "file"])
    groupings: dict[str, dict[str, str]] = {}
    labels: dict[str, str] = {}
    if "area_of_need" in table:
        groupings["area_of_need"] = dict(zip(table["code"], table["area_of_need"]))
    g = _read_scheme_csv("groupings.csv")
    for gname, part in g[g["scheme"] == name].groupby("grouping", sort=False):
        groupings[gname] = dict(zip(part["code"], part["group"]))
        labels.update(zip(part["group"], part["group_label"]))
    return NeedScheme(name, table, groupings, labels, reg.loc[name, "description"])


@dataclass
class NeedMapping:
    """Result of :func:`map_needs`: the mapped codes and what could not be mapped.

    Attributes
    ----------
    mapped : Series
        Same index as the input; unmapped values hold ``fill``.
    unmapped : DataFrame
        ``code, count`` of input values with no mapping (empty when all mapped).
    n_unmapped : int
        Number of input values that did not map.

    Examples
    --------
    >>> m = map_needs(["ASD", "NSA", "NSA", "SLD"], "england_sen2", "wales_plasc", errors="ignore")
    >>> len(m.mapped), m.n_unmapped  # nothing dropped; two values have no Welsh code
    (4, 2)
    >>> m.unmapped["code"].tolist()
    ['NSA']
    """

    mapped: pd.Series
    unmapped: pd.DataFrame

    @property
    def n_unmapped(self) -> int:
        return int(self.unmapped["count"].sum())


def map_needs(values, from_scheme: str | NeedScheme, to: str | NeedScheme | Mapping[str, str], *,
              fill=pd.NA, errors: str = "warn") -> NeedMapping:
    """Map need codes to another scheme or to a grouping, reporting codes that do not map.

    Parameters
    ----------
    values : Series or array-like
        Need codes in ``from_scheme`` (case-insensitive; aliases accepted).
    from_scheme : str or NeedScheme
    to : str, NeedScheme or mapping
        Another scheme's name (uses ``schemes/crosswalks.csv``), the name of a grouping of
        ``from_scheme`` (e.g. ``"wales_strategy"``, ``"area_of_need"``), or a ``code -> code`` dict.
    fill : object
        Value given to codes that do not map (default missing). Nothing is dropped.
    errors : {"warn", "raise", "ignore"}
        What to do when some codes do not map: warn with :class:`InputWarning`, raise
        :class:`SenForecastError`, or only report them in ``.unmapped``.

    Returns
    -------
    NeedMapping

    Examples
    --------
    >>> m = map_needs(["ASD", "MLD", "GLD", "DYSL"], "wales_plasc", "wales_strategy")
    >>> list(m.mapped)
    ['ASD', 'CL', 'CL', 'SPLD']
    >>> m = map_needs(["ASD", "NSA", "NSA"], "england_sen2", "wales_plasc", errors="ignore")
    >>> list(m.mapped.fillna("?")), m.unmapped.to_dict("records")
    (['ASD', '?', '?'], [{'code': 'NSA', 'count': 2}])
    """
    if errors not in {"warn", "raise", "ignore"}:
        raise SenForecastError(f"errors must be 'warn', 'raise' or 'ignore', not {errors!r}")
    src = from_scheme if isinstance(from_scheme, NeedScheme) else get_scheme(from_scheme)
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    codes = src.normalise(s)
    codes.index = s.index
    if isinstance(to, Mapping):
        mapping, target = dict(to), "the given mapping"
    elif isinstance(to, NeedScheme) or _is_scheme(to):
        dst = to if isinstance(to, NeedScheme) else get_scheme(to)
        if dst.name == src.name:
            mapping = {c: c for c in src.codes}
        else:
            cw = _read_scheme_csv("crosswalks.csv")
            cw = cw[(cw["from_scheme"] == src.name) & (cw["to_scheme"] == dst.name)]
            if cw.empty:
                raise SenForecastError(
                    f"no crosswalk from {src.name!r} to {dst.name!r}; pass a dict code -> code as `to`"
                )
            mapping = dict(zip(cw["from_code"], cw["to_code"]))
        target = f"scheme {dst.name!r}"
    else:
        mapping, target = src.grouping(str(to)), f"grouping {to!r}"
    mapped = codes.map(mapping)
    miss = mapped.isna()
    unmapped = (s[miss].astype(object).where(s[miss].notna(), "<missing>").value_counts(sort=True)
                .rename_axis("code").reset_index(name="count"))
    unmapped["count"] = unmapped["count"].astype(int)
    if miss.any():
        mapped = mapped.astype(object).where(~miss, fill)
        msg = (f"{int(miss.sum())} need value(s) in {src.name!r} have no mapping to {target}: "
               + ", ".join(f"{c} ({n})" for c, n in zip(unmapped["code"], unmapped["count"]))
               + f"; they are set to {fill!r}. Add them to the mapping to keep them.")
        if errors == "raise":
            raise SenForecastError(msg)
        if errors == "warn":
            warnings.warn(msg, InputWarning, stacklevel=2)
    return NeedMapping(mapped, unmapped)


def _is_scheme(name: object) -> bool:
    try:
        _resolve_name(str(name))
    except SenForecastError:
        return False
    return True
