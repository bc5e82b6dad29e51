"""Statistical disclosure control of a set of linked published tables.

The published tables of one output are seen together as *cells* (one per count in a table)
tied by *linear relations*: a total is the sum of its parts, within a table (declared
margins) and across tables (every table is a grouping of the same counts, a *base*), and a
derived column (a cost, a percentage) is a known multiple of a count. Then, as tau-Argus and
sdcTable do:

1. **Primary suppression**: counts from 1 to ``threshold - 1`` are sensitive (zeros only
   when ``zeros_sensitive=True``). Each gets a *protection interval*; by default
   ``[1, threshold - 1]``: a reader may learn that the count is small, never which small
   value it is.
2. **Secondary suppression** chosen by optimisation: hide the set of other cells of least
   total weight (by default the fewest cells, smaller cells first) such that, for every
   sensitive cell, the range an attacker can infer by linear programming from everything
   published covers its protection interval. Solved exactly by cut generation: a master
   0/1 programme picks the cells to hide, every sensitive cell is attacked by LP, and each
   successful attack adds a cut from its LP duals (Fischetti and Salazar's method, the
   "optimal" method of tau-Argus), until no attack succeeds.
3. Derived columns of a hidden count are hidden with it.
4. **Audit**: :func:`audit` reads any publication (the tables as they would be written,
   hidden cells shown as markers or NaN) and, for every hidden cell, solves the attacker's
   LPs (min and max of the cell subject to all published values, all relations, the
   derived values and non-negativity). It does not use the suppression pattern that made
   the publication, so it can audit any output.

The entry points are :meth:`DisclosureProblem.from_tables` (what an outputs registry
declares, table by table, with :class:`TableSpec`), :func:`suppress`, :func:`publish`,
:func:`audit` and, for all of them in one call, :func:`protect`. The method, guarantees and
limits are in ``docs/disclosure.md``.
"""
from __future__ import annotations

import itertools
import math
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from ..core.errors import SenForecastError
from . import _attacker

__all__ = [
    "AuditResult", "Derived", "DisclosureError", "DisclosureProblem", "DisclosureWarning", "Protected",
    "Suppression", "TableSpec", "audit", "check", "protect", "publish", "suppress",
]

_TOL = 1e-7
_COLUMN = "__column__"  # coordinate naming the count column when the spec gives no column_dim
Protection = Literal["band", "strict"] | tuple[float, float]


class DisclosureError(SenForecastError):
    """A publication lets a small count be recovered, or a disclosure problem is declared wrongly.

    Examples
    --------
    >>> isinstance(DisclosureError("x"), SenForecastError)
    True
    """


class DisclosureWarning(UserWarning):
    """A small count that cannot be protected, or an optimisation stopped early.

    Examples
    --------
    >>> issubclass(DisclosureWarning, UserWarning)
    True
    """


# ------------------------------------------------------------------------ declarations
@dataclass(frozen=True)
class Derived:
    """A published column that is a linear function of one count of the same row:
    ``value = factor * count + offset``.

    Parameters
    ----------
    count : str
        The count column it is computed from.
    factor, offset : str or float
        A number, or the name of a column of the table holding it (e.g. ``cost_per_place``).
        A percentage of a published total ``N`` is ``Derived("count", 100 / N)``.
    rounding : float
        Half-width of the rounding of the published value (0: exact; 0.05 for a percentage
        shown with one decimal). The audit then knows ``count`` only to within it.

    Examples
    --------
    >>> Derived("on_roll", "cost_per_place")
    Derived(count='on_roll', factor='cost_per_place', offset=0.0, rounding=0.0)
    """

    count: str
    factor: str | float = 1.0
    offset: str | float = 0.0
    rounding: float = 0.0


@dataclass(frozen=True)
class TableSpec:
    """How one published table is made of counts: what an outputs registry declares per table.

    Parameters
    ----------
    counts : str or sequence of str
        Columns holding observed counts of children (the cells).
    dims : sequence of str
        Columns that identify a row (e.g. ``["need", "year"]``); required when the table has
        more than one row.
    column_dim : str, optional
        For a wide table, the dimension the count columns are levels of (e.g. ``"year"`` for
        columns ``2024, 2025``), so its cells can be matched with other tables.
    margins : mapping of str to label
        ``{dim: label}``: rows (or, for ``column_dim``, the count column) labelled ``label``
        in ``dim`` are the sum of the other rows that agree on every other coordinate,
        e.g. ``{"need": "Total"}``.
    derived : mapping of str to Derived or tuple
        Columns computed from a count of the same row, ``{col: Derived(...)}`` or
        ``{col: (count, factor)}`` / ``(count, factor, offset)``. They are hidden with their
        count; published beside a hidden count they would reveal it.
    fixed : mapping of str to value
        Coordinates shared by every row and not in a column, e.g. ``{"year": 2025}`` for a
        table of the last census.
    base : str, optional
        Name of the base (see :meth:`DisclosureProblem.from_tables`) the table is a grouping
        of: each cell is the sum of the base rows matching its coordinates (dims, fixed,
        column_dim; a margin label means "all"). This is what links tables to each other.
    external_margins : bool
        Treat every total of the table's lines (row, column, grand totals) that the table
        does not print as published elsewhere (the cautious choice for a table whose
        totals appear in a report text). Such totals cannot be hidden.

    Examples
    --------
    >>> spec = TableSpec(counts=["2024", "2025"], dims=["need"], column_dim="year", base="plans")
    >>> spec.counts, spec.dims
    (('2024', '2025'), ('need',))
    >>> TableSpec("on_roll", dims=["setting"], derived={"yearly_cost": ("on_roll", "cost_per_place")}).derived
    {'yearly_cost': Derived(count='on_roll', factor='cost_per_place', offset=0.0, rounding=0.0)}
    """

    counts: Sequence[str] | str
    dims: Sequence[str] = ()
    column_dim: str | None = None
    margins: Mapping[str, Any] = field(default_factory=dict)
    derived: Mapping[str, Derived | tuple] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    base: str | None = None
    external_margins: bool = False

    def __post_init__(self) -> None:
        counts = (self.counts,) if isinstance(self.counts, str) else tuple(self.counts)
        dims = (self.dims,) if isinstance(self.dims, str) else tuple(self.dims)
        derived = {}
        for col, d in dict(self.derived).items():
            if isinstance(d, Derived):
                derived[col] = d
            elif isinstance(d, tuple) and 2 <= len(d) <= 3:
                derived[col] = Derived(*d)
            else:
                raise DisclosureError(f"derived column {col!r}: give Derived(count, factor[, offset]) or a "
                                      f"tuple (count, factor[, offset]); got {d!r}")
        if not counts:
            raise DisclosureError("a TableSpec needs at least one count column")
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "derived", derived)
        object.__setattr__(self, "margins", dict(self.margins))
        object.__setattr__(self, "fixed", dict(self.fixed))

    @property
    def column_key(self) -> str:
        """Coordinate naming a cell's count column (``column_dim`` or a private name)."""
        return self.column_dim or _COLUMN


def _norm(v: Any) -> str:
    """Coordinate values compared across tables as text; 2025, 2025.0 and "2025" agree."""
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


# ---------------------------------------------------------------------------- problem
class DisclosureProblem:
    """Cells of a set of published tables, the linear relations among them, and which are sensitive.

    Most users build one with :meth:`from_tables`. The low-level constructor takes the cells
    and relations directly.

    Parameters
    ----------
    cells : DataFrame
        One row per cell: ``table``, ``row`` (position in the table, -1 for cells not in a
        table), ``column``, ``value`` (the true count) and ``role``: ``"count"`` (a
        published count that may be hidden), ``"external"`` (published elsewhere: always
        shown) or ``"latent"`` (never published, e.g. a base row: always hidden). An
        optional ``label`` describes the cell in messages.
    relations : sparse matrix
        ``R`` with ``R @ value == 0``, one row per relation (e.g. ``total - a - b``).
    derived : DataFrame, optional
        Published derived cells: ``table``, ``row``, ``column``, ``cell`` (the count's id),
        ``factor``, ``offset``, ``rounding``, ``value``.
    tables, specs : dict, optional
        The source tables and their specs (needed by :func:`publish` and :func:`audit`).
    threshold : float
        Counts from 1 to ``threshold - 1`` are sensitive.
    zeros_sensitive : bool
        Also treat zero counts as sensitive. Off by default: a zero discloses nothing about
        a child, and hiding every zero would hide much of a sparse table.
    protection : {"band", "strict"} or (lower_margin, upper_margin)
        The interval an attacker's inferred range must cover for each sensitive cell:
        ``"band"`` (default) ``[1, threshold - 1]`` (``[0, ...]`` with sensitive zeros): the
        reader may learn the count is small, as a ``"<5"`` marker says, but not which
        small value it is; ``"strict"`` ``[0, threshold]``: the reader cannot even tell it
        is small (use with one marker for every hidden cell); a pair ``(l, u)`` gives
        ``[max(0, value - l), value + u]``, tau-Argus's lower and upper protection levels.

    Examples
    --------
    A row of three counts and its total, as cells and one relation:

    >>> cells = pd.DataFrame({"table": "t", "row": [0, 1, 2, 3], "column": "n",
    ...                       "value": [40, 12, 3, 55], "role": "count"})
    >>> R = sp.csr_matrix([[1, 1, 1, -1]])
    >>> p = DisclosureProblem(cells, R, threshold=5)
    >>> p.cells["primary"].tolist(), p.cells.loc[2, ["required_lower", "required_upper"]].tolist()
    ([False, False, True, False], [1.0, 4.0])
    """

    def __init__(self, cells: pd.DataFrame, relations: sp.spmatrix, derived: pd.DataFrame | None = None, *,
                 tables: Mapping[str, pd.DataFrame] | None = None, specs: Mapping[str, TableSpec] | None = None,
                 threshold: float = 5, zeros_sensitive: bool = False, protection: Protection = "band"):
        self.threshold = _check_threshold(threshold)
        self.zeros_sensitive = bool(zeros_sensitive)
        self.protection = _check_protection(protection)
        need = {"table", "row", "column", "value", "role"}
        if not need <= set(cells.columns):
            raise DisclosureError(f"cells need columns {sorted(need)}; got {list(cells.columns)}")
        cells = cells.reset_index(drop=True).copy()
        bad_role = ~cells["role"].isin(["count", "external", "latent"])
        if bad_role.any():
            raise DisclosureError(f"cell roles must be count, external or latent; found "
                                  f"{sorted(cells.loc[bad_role, 'role'].astype(str).unique())}")
        cells["value"] = cells["value"].astype(float)
        if "label" not in cells.columns:
            cells["label"] = [f"{t} row {r} {c}" for t, r, c in zip(cells["table"], cells["row"], cells["column"])]
        R = sp.csr_matrix(relations, dtype=float)
        if R.shape[1] != len(cells):
            raise DisclosureError(f"relations have {R.shape[1]} columns but there are {len(cells)} cells")
        self.relations = R
        v = cells["value"].to_numpy()
        counts = (cells["role"] == "count").to_numpy()
        primary = counts & (v < self.threshold) & ((v > 0) | self.zeros_sensitive)
        lo, hi = self._interval(v)
        cells["primary"] = primary
        cells["required_lower"] = np.where(primary, lo, np.nan)
        cells["required_upper"] = np.where(primary, hi, np.nan)
        self.cells = cells
        self.derived = (derived.reset_index(drop=True).copy() if derived is not None else
                        pd.DataFrame(columns=["table", "row", "column", "cell", "factor", "offset", "rounding", "value"]))
        self.tables = {k: t.reset_index(drop=True) for k, t in (tables or {}).items()}
        self.specs = dict(specs or {})
        self._check_relations()

    # -------------------------------------------------------------- construction
    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame], specs: Mapping[str, TableSpec], *,
                    bases: Mapping[str, pd.DataFrame] | None = None, threshold: float = 5,
                    zeros_sensitive: bool = False, protection: Protection = "band") -> DisclosureProblem:
        """Cells and relations of tidy or wide tables, each described by a :class:`TableSpec`.

        Parameters
        ----------
        tables : mapping of str to DataFrame
            The tables as they would be published, with true counts (no markers yet).
        specs : mapping of str to TableSpec
            One spec per table.
        bases : mapping of str to DataFrame, optional
            The counts the tables are groupings of, at the finest level any table uses: one
            column per coordinate and a ``count`` column (e.g. plans counted by year, need,
            area and setting). A table whose spec names a base has each cell tied to the
            sum of the matching base rows, which relates all tables of one base to each
            other. Base rows left out count as known zeros (the cautious choice: list
            combinations a reader cannot know are empty with a count of 0).
        threshold, zeros_sensitive, protection
            See :class:`DisclosureProblem`.

        Returns
        -------
        DisclosureProblem

        Examples
        --------
        The probe's leak: a table of settings with a yearly cost column, and a table by kind
        of setting, both groupings of the same census counts.

        >>> settings = pd.DataFrame({"setting": ["RB1", "RB2", "SS1"], "kind": ["rb", "rb", "special"],
        ...                          "on_roll": [3, 20, 50], "cost_per_place": [24000, 21000, 29000],
        ...                          "yearly_cost": [72000, 420000, 1450000]})
        >>> kinds = pd.DataFrame({"kind": ["rb", "special"], "children": [23, 50]})
        >>> base = settings[["setting", "kind", "on_roll"]].rename(columns={"on_roll": "count"})
        >>> specs = {"settings": TableSpec("on_roll", dims=["setting"], base="census",
        ...                                derived={"yearly_cost": ("on_roll", "cost_per_place")}),
        ...          "kinds": TableSpec("children", dims=["kind"], base="census")}
        >>> p = DisclosureProblem.from_tables({"settings": settings, "kinds": kinds}, specs,
        ...                                   bases={"census": base})
        >>> p.cells.loc[p.cells["role"] == "count", ["table", "label", "value", "primary"]]
              table         label  value  primary
        0  settings   setting=RB1    3.0     True
        1  settings   setting=RB2   20.0    False
        2  settings   setting=SS1   50.0    False
        3     kinds       kind=rb   23.0    False
        4     kinds  kind=special   50.0    False
        """
        bases = dict(bases or {})
        missing = [n for n in tables if n not in specs]
        if missing:
            raise DisclosureError(f"no TableSpec for table(s) {missing}; give specs={{name: TableSpec(...)}} for each")
        parts: list[pd.DataFrame] = []
        by_table: list[tuple[str, pd.DataFrame, pd.DataFrame]] = []
        triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        derived_parts: list[pd.DataFrame] = []
        n_rel = 0
        next_id = 0
        clean: dict[str, pd.DataFrame] = {}
        for name, table in tables.items():
            spec = specs[name]
            t = _check_table(name, table, spec, bases)
            clean[name] = t
            cells, xy = _table_cells(name, t, spec, next_id)
            next_id += len(cells)
            parts.append(cells)
            by_table.append((name, cells, xy))
            derived_parts.append(_derived_cells(name, t, spec, cells))
            for rel in _margin_relations(name, spec, cells, xy):
                triplets.append((np.full(len(rel[0]), n_rel), *rel))
                n_rel += 1
            ext_cells, ext_rels = _external_margins(name, spec, cells, xy, next_id)
            if len(ext_cells):
                next_id += len(ext_cells)
                parts.append(ext_cells)
                for rel in ext_rels:
                    triplets.append((np.full(len(rel[0]), n_rel), *rel))
                    n_rel += 1
        used_bases = sorted({specs[n].base for n in tables if specs[n].base is not None})
        for b in used_bases:
            atoms = _base_atoms(b, bases, next_id)
            next_id += len(atoms)
            parts.append(atoms)
            for name, t_cells, xy in by_table:
                if specs[name].base != b:
                    continue
                for rel in _base_relations(name, specs[name], t_cells, xy, bases[b], atoms):
                    triplets.append((np.full(len(rel[0]), n_rel), *rel))
                    n_rel += 1
        cells = pd.concat(parts, ignore_index=True)
        assert (cells["cell"].to_numpy() == np.arange(len(cells))).all()  # relations index cells by position
        if triplets:
            rows = np.concatenate([t[0] for t in triplets])
            cols = np.concatenate([t[1] for t in triplets])
            vals = np.concatenate([t[2] for t in triplets]).astype(float)
            R = sp.csr_matrix((vals, (rows, cols)), shape=(n_rel, len(cells)))
        else:
            R = sp.csr_matrix((0, len(cells)))
        derived = pd.concat(derived_parts, ignore_index=True) if derived_parts else None
        return cls(cells, R, derived, tables=clean, specs=specs, threshold=threshold,
                   zeros_sensitive=zeros_sensitive, protection=protection)

    def with_relation(self, total: tuple[str, int, str], parts: Sequence[tuple[str, int, str]]) -> DisclosureProblem:
        """A copy with one more relation ``total == sum(parts)``; cells are ``(table, row, column)``.

        For links that no base expresses (e.g. a total printed in one sheet that is the sum
        of rows of another).

        Examples
        --------
        >>> a = pd.DataFrame({"kind": ["rb"], "children": [23]})
        >>> b = pd.DataFrame({"setting": ["RB1", "RB2"], "on_roll": [3, 20]})
        >>> p = DisclosureProblem.from_tables({"a": a, "b": b}, {"a": TableSpec("children", dims=["kind"]),
        ...                                   "b": TableSpec("on_roll", dims=["setting"])})
        >>> p.relations.shape[0], p.with_relation(("a", 0, "children"), [("b", 0, "on_roll"), ("b", 1, "on_roll")]).relations.shape[0]
        (0, 1)
        """
        ids = [self.cell_id(*total)] + [self.cell_id(*c) for c in parts]
        row = np.zeros(len(self.cells))
        row[ids[0]] += 1.0
        for i in ids[1:]:
            row[i] -= 1.0
        R = sp.vstack([self.relations, sp.csr_matrix(row)]).tocsr()
        return DisclosureProblem(self.cells[["table", "row", "column", "value", "role", "label"]], R, self.derived,
                                 tables=self.tables, specs=self.specs, threshold=self.threshold,
                                 zeros_sensitive=self.zeros_sensitive, protection=self.protection)

    def cell_id(self, table: str, row: int, column: str) -> int:
        """Index of the count cell at ``row`` (position) and ``column`` of ``table``.

        Examples
        --------
        >>> p = DisclosureProblem.from_tables({"t": pd.DataFrame({"n": [4, 9]})}, {"t": TableSpec("n", dims=[])})
        Traceback (most recent call last):
        ...
        senforecast.reporting.disclosure.DisclosureError: table 't' has 2 rows but its TableSpec names no dims; give dims=[...] naming the columns that identify a row
        """
        c = self.cells
        hit = np.flatnonzero((c["table"] == table).to_numpy() & (c["row"] == row).to_numpy()
                             & (c["column"].astype(str) == str(column)).to_numpy())
        if hit.size != 1:
            raise DisclosureError(f"no count cell at table {table!r}, row {row}, column {column!r}")
        return int(hit[0])

    # ------------------------------------------------------------------ internals
    def _interval(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self.threshold
        floor = 0.0 if self.zeros_sensitive else 1.0
        if self.protection == "band":
            lo, hi = np.full_like(v, floor), np.full_like(v, math.ceil(t) - 1.0)
        elif self.protection == "strict":
            lo, hi = np.zeros_like(v), np.full_like(v, float(t))
        else:
            lm, um = self.protection
            lo, hi = np.maximum(v - lm, 0.0), v + um
        return np.minimum(lo, v), np.maximum(hi, v)

    def band(self) -> tuple[float, float]:
        """What a ``"<threshold"`` marker tells a reader: the count lies in this interval.

        Examples
        --------
        >>> cells = pd.DataFrame({"table": "t", "row": [0], "column": "n", "value": [2], "role": "count"})
        >>> DisclosureProblem(cells, sp.csr_matrix((0, 1)), threshold=5).band()
        (1.0, 4.0)
        """
        return (0.0 if self.zeros_sensitive else 1.0), float(math.ceil(self.threshold) - 1)

    def _check_relations(self) -> None:
        if self.relations.shape[0] == 0:
            return
        v = self.cells["value"].to_numpy()
        resid = self.relations @ v
        scale = abs(self.relations) @ np.abs(v) + 1.0
        bad = np.flatnonzero(np.abs(resid) > 1e-6 * scale)
        if bad.size:
            r = self.relations.getrow(bad[0])
            terms = ", ".join(f"{c:+g} x [{self.cells.at[j, 'table']}: {self.cells.at[j, 'label']}, "
                              f"{self.cells.at[j, 'column']} = {v[j]:g}]" for j, c in zip(r.indices, r.data))
            raise DisclosureError(f"{bad.size} relation(s) do not hold on the true counts, e.g. {terms} "
                                  f"sums to {resid[bad[0]]:g}, not 0; check the margins, bases and links declared")

    @property
    def n_cells(self) -> int:
        """Number of cells (counts, external totals and latent base rows)."""
        return len(self.cells)

    def __repr__(self) -> str:
        c = self.cells
        return (f"DisclosureProblem({int((c['role'] == 'count').sum())} counts in {c.loc[c['row'] >= 0, 'table'].nunique()}"
                f" table(s), {int(c['primary'].sum())} sensitive, {self.relations.shape[0]} relations, "
                f"threshold {self.threshold:g}, protection {self.protection!r})")

    # ------------------------------------------------------------------ shortcuts
    def suppress(self, **kwargs: Any) -> Suppression:
        """:func:`suppress` this problem."""
        return suppress(self, **kwargs)

    def publish(self, hidden: Suppression | np.ndarray, **kwargs: Any) -> dict[str, pd.DataFrame]:
        """:func:`publish` this problem's tables with ``hidden`` cells."""
        return publish(self, hidden, **kwargs)

    def audit(self, published: Mapping[str, pd.DataFrame], **kwargs: Any) -> AuditResult:
        """:func:`audit` a publication of this problem's tables."""
        return audit(self, published, **kwargs)


def _check_threshold(threshold: Any) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        t = float("nan")
    if not math.isfinite(t) or t < 1:
        raise DisclosureError(f"the suppression threshold must be a number of at least 1 (counts below it are "
                              f"hidden), e.g. 5; got {threshold!r}")
    return t


def _check_protection(protection: Any) -> Protection:
    if protection in ("band", "strict"):
        return protection
    if isinstance(protection, tuple) and len(protection) == 2:
        lm, um = (float(x) for x in protection)
        if lm >= 0 and um >= 0 and math.isfinite(lm) and math.isfinite(um):
            return (lm, um)
    raise DisclosureError(f'protection must be "band", "strict" or a pair (lower_margin, upper_margin) of '
                          f"non-negative numbers; got {protection!r}")


# ------------------------------------------------------------------- table → cells
def _check_table(name: str, table: pd.DataFrame, spec: TableSpec, bases: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise DisclosureError(f"table {name!r} must be a pandas DataFrame; got {type(table).__name__}")
    t = table.reset_index(drop=True)
    cols = [str(c) for c in t.columns]
    t.columns = cols
    want = [*spec.counts, *spec.dims, *spec.derived]
    for d in spec.derived.values():
        want.append(d.count)
        want += [x for x in (d.factor, d.offset) if isinstance(x, str)]
    missing = [c for c in dict.fromkeys(want) if c not in cols]
    if missing:
        raise DisclosureError(f"table {name!r} has no column(s) {missing} named in its TableSpec (it has {cols})")
    for col, d in spec.derived.items():
        if d.count not in spec.counts:
            raise DisclosureError(f"table {name!r}: derived column {col!r} is computed from {d.count!r}, which is "
                                  f"not one of its count columns {list(spec.counts)}")
    keys = set(spec.dims) | {spec.column_key}
    bad_margin = [d for d in spec.margins if d not in keys]
    if bad_margin:
        raise DisclosureError(f"table {name!r}: margins name {bad_margin}, which are neither dims {list(spec.dims)} "
                              f"nor the column_dim {spec.column_dim!r}")
    if len(t) > 1 and not spec.dims:
        raise DisclosureError(f"table {name!r} has {len(t)} rows but its TableSpec names no dims; give dims=[...] "
                              "naming the columns that identify a row")
    if spec.dims:
        dup = t.duplicated(subset=list(spec.dims), keep=False)
        if dup.any():
            rows = np.flatnonzero(dup.to_numpy())[:5].tolist()
            raise DisclosureError(f"table {name!r}: rows {rows} (0-based) have the same {list(spec.dims)}; add the "
                                  "column(s) that tell them apart to dims")
    if spec.base is not None and spec.base not in bases:
        raise DisclosureError(f"table {name!r} is a grouping of base {spec.base!r}, but no such base was given "
                              f"(bases: {sorted(bases)})")
    for c in spec.counts:
        raw = t[c]
        num = pd.to_numeric(raw, errors="coerce")
        text = raw.notna() & num.isna()
        if text.any():
            i = int(np.flatnonzero(text.to_numpy())[0])
            raise DisclosureError(f"table {name!r}, row {i} (0-based), column {c!r} holds {raw.iloc[i]!r}, not a "
                                  "number; disclosure control needs the unsuppressed counts")
        neg = num < 0
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            raise DisclosureError(f"table {name!r}, row {i} (0-based), column {c!r}: counts cannot be negative "
                                  f"(found {num.iloc[i]:g})")
    return t


def _table_cells(name: str, t: pd.DataFrame, spec: TableSpec, start: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count cells of one table and their coordinates (normalised text, one column per dim)."""
    rows, cols, vals, labels = [], [], [], []
    dim_text = {d: t[d].map(_norm) for d in spec.dims}
    row_labels = [", ".join(f"{d}={dim_text[d].iloc[i]}" for d in spec.dims) for i in range(len(t))]
    for c in spec.counts:
        num = pd.to_numeric(t[c], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(num)
        idx = np.flatnonzero(ok)
        rows.append(idx)
        cols += [c] * idx.size
        vals.append(num[idx])
        extra = f"{spec.column_dim}={_norm(c)}" if spec.column_dim else ""
        labels += [", ".join(x for x in (row_labels[i], extra) if x) or c for i in idx]
    rows_a = np.concatenate(rows) if rows else np.zeros(0, int)
    cells = pd.DataFrame({"cell": np.arange(start, start + rows_a.size), "table": name, "row": rows_a,
                          "column": cols, "value": np.concatenate(vals) if vals else np.zeros(0),
                          "role": "count", "label": labels})
    xy = pd.DataFrame({d: dim_text[d].to_numpy()[rows_a] for d in spec.dims})
    xy[spec.column_key] = [_norm(c) for c in cols]
    for d, v in spec.fixed.items():
        xy[d] = _norm(v)
    xy.index = cells.index
    return cells, xy


def _derived_cells(name: str, t: pd.DataFrame, spec: TableSpec, cells: pd.DataFrame) -> pd.DataFrame:
    out = []
    where = {(r, c): cid for r, c, cid in zip(cells["row"], cells["column"], cells["cell"])}
    for col, d in spec.derived.items():
        value = pd.to_numeric(t[col], errors="coerce").to_numpy(dtype=float)
        factor = (pd.to_numeric(t[d.factor], errors="coerce").to_numpy(dtype=float) if isinstance(d.factor, str)
                  else np.full(len(t), float(d.factor)))
        offset = (pd.to_numeric(t[d.offset], errors="coerce").to_numpy(dtype=float) if isinstance(d.offset, str)
                  else np.full(len(t), float(d.offset)))
        count = pd.to_numeric(t[d.count], errors="coerce").to_numpy(dtype=float)
        for i in range(len(t)):
            cid = where.get((i, d.count))
            if cid is None:
                continue
            if np.isfinite(value[i]) and np.isfinite(factor[i]) and np.isfinite(offset[i]):
                expect = factor[i] * count[i] + offset[i]
                if abs(expect - value[i]) > d.rounding + 1e-6 * max(1.0, abs(value[i])):
                    raise DisclosureError(
                        f"table {name!r}, row {i} (0-based), column {col!r} is {value[i]:g}, but {d.count!r} x "
                        f"{d.factor!r} + {d.offset!r} is {expect:g}; fix the Derived declaration (or give its rounding)")
            out.append((name, i, col, cid, factor[i], offset[i], float(d.rounding), value[i]))
    return pd.DataFrame(out, columns=["table", "row", "column", "cell", "factor", "offset", "rounding", "value"])


def _rel(ids: Sequence[int], coefs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(ids, dtype=np.int64), np.asarray(coefs, dtype=float)


def _margin_relations(name: str, spec: TableSpec, cells: pd.DataFrame, xy: pd.DataFrame):
    """total - sum(parts) for every total row/column declared in ``spec.margins``."""
    keys = [k for k in xy.columns]
    for d, label in spec.margins.items():
        lab = _norm(label)
        is_tot = (xy[d] == lab).to_numpy()
        if not is_tot.any():
            continue
        others = [k for k in keys if k != d]
        tot = pd.DataFrame({"cell": cells["cell"].to_numpy()[is_tot]})
        par = pd.DataFrame({"cell": cells["cell"].to_numpy()[~is_tot]})
        for k in others:
            tot[k] = xy[k].to_numpy()[is_tot]
            par[k] = xy[k].to_numpy()[~is_tot]
        if others:
            m = tot.merge(par, on=others, suffixes=("_t", "_p"))
            groups = m.groupby("cell_t")["cell_p"].apply(list)
        else:
            groups = pd.Series({c: par["cell"].tolist() for c in tot["cell"]})
        for t_id, p_ids in groups.items():
            yield _rel([t_id, *p_ids], [1.0] + [-1.0] * len(p_ids))


def _external_margins(name: str, spec: TableSpec, cells: pd.DataFrame, xy: pd.DataFrame, start: int):
    """Totals of every line not printed in the table, as always-shown cells."""
    if not spec.external_margins or cells.empty:
        return pd.DataFrame(columns=cells.columns), []
    inner = np.ones(len(cells), dtype=bool)
    for d, label in spec.margins.items():
        inner &= (xy[d] != _norm(label)).to_numpy()
    keys = [k for k in xy.columns if xy.loc[inner, k].nunique() > 1]
    existing = {tuple(r) for r in xy[keys].itertuples(index=False)}
    ids = cells["cell"].to_numpy()[inner]
    vals = cells["value"].to_numpy()[inner]
    sub = xy.loc[inner, keys].reset_index(drop=True)
    new, rels = [], []
    next_id = start
    for r in range(1, len(keys) + 1):
        for summed in itertools.combinations(keys, r):
            kept = [k for k in keys if k not in summed]
            groups = sub.groupby(kept, sort=False).indices if kept else {(): np.arange(len(sub))}
            for key, pos in groups.items():
                key = key if isinstance(key, tuple) else (key,)
                coord = dict(zip(kept, key))
                printed = all(d in spec.margins for d in summed) and tuple(
                    coord.get(k, _norm(spec.margins.get(k))) for k in keys) in existing
                if printed:
                    continue
                label = ", ".join([*(f"{k}={v}" for k, v in coord.items() if k != _COLUMN),
                                   *(f"{k}=all" for k in summed if k != _COLUMN)]) or "total"
                new.append((next_id, name, -1, "total (published elsewhere)", float(vals[pos].sum()), "external", label))
                rels.append(_rel([next_id, *ids[pos]], [1.0] + [-1.0] * len(pos)))
                next_id += 1
    ext = pd.DataFrame(new, columns=["cell", "table", "row", "column", "value", "role", "label"])
    return ext, rels


def _base_atoms(b: str, bases: Mapping[str, pd.DataFrame], start: int) -> pd.DataFrame:
    base = bases[b]
    if not isinstance(base, pd.DataFrame) or "count" not in base.columns:
        raise DisclosureError(f"base {b!r} must be a DataFrame with a 'count' column and one column per coordinate")
    v = pd.to_numeric(base["count"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(v).all() or (v < 0).any():
        raise DisclosureError(f"base {b!r}: the 'count' column must hold non-negative numbers")
    return pd.DataFrame({"cell": np.arange(start, start + len(base)), "table": f"base {b}", "row": -1,
                         "column": "count", "value": v, "role": "latent",
                         "label": [f"base {b} row {i}" for i in range(len(base))]})


def _base_relations(name: str, spec: TableSpec, cells: pd.DataFrame, xy: pd.DataFrame, base: pd.DataFrame,
                    atoms: pd.DataFrame):
    """cell - sum(matching base rows) for every cell of a table that is a grouping of ``base``."""
    keys = [k for k in xy.columns if k != _COLUMN]
    active = pd.DataFrame({k: xy[k] != _norm(spec.margins[k]) if k in spec.margins else True for k in keys},
                          index=xy.index) if keys else pd.DataFrame(index=xy.index)
    missing = [k for k in keys if k not in base.columns]
    if missing:
        raise DisclosureError(f"table {name!r} has coordinate(s) {missing} that base {spec.base!r} lacks (it has "
                              f"{[c for c in base.columns if c != 'count']}); add them to the base or the dims")
    if _COLUMN in xy.columns and xy[_COLUMN].nunique() > 1:
        raise DisclosureError(f"table {name!r} has several count columns {list(spec.counts)} and is a grouping of base "
                              f"{spec.base!r}; name what the columns are with column_dim=... (e.g. 'year')")
    btext = pd.DataFrame({k: base[k].map(_norm).to_numpy() for k in keys})
    atom_ids = atoms["cell"].to_numpy()
    atom_vals = atoms["value"].to_numpy()
    pattern = active.apply(lambda r: tuple(k for k in keys if r[k]), axis=1) if keys else pd.Series([()] * len(xy))
    for pat, idx in pd.Series(range(len(xy)), index=xy.index).groupby(pattern.to_numpy()).groups.items():
        pat = tuple(pat)
        sel = xy.loc[idx]
        if pat:
            lookup = btext.groupby(list(pat), sort=False).indices
        for i in idx:
            cid = int(cells.at[i, "cell"])
            if pat:
                key = tuple(sel.at[i, k] for k in pat)
                pos = lookup.get(key if len(pat) > 1 else key[0], np.zeros(0, dtype=np.int64))
            else:
                pos = np.arange(len(btext))
            s = float(atom_vals[pos].sum())
            v = float(cells.at[i, "value"])
            if abs(s - v) > 1e-6 * max(1.0, abs(v)):
                raise DisclosureError(
                    f"table {name!r}, row {int(cells.at[i, 'row'])} (0-based), column {cells.at[i, 'column']!r} "
                    f"({cells.at[i, 'label']}): the count is {v:g} but the base {spec.base!r} rows it groups sum to "
                    f"{s:g}; the table is not a grouping of that base, or its dims/fixed/margins are declared wrongly")
            yield _rel([cid, *atom_ids[pos]], [1.0] + [-1.0] * len(pos))


# ---------------------------------------------------------------- secondary suppression
@dataclass
class Suppression:
    """Cells chosen to hide: every sensitive count and the secondary cells protecting them.

    Attributes
    ----------
    problem : DisclosureProblem
    hidden : ndarray of bool
        Per cell of ``problem.cells`` (latent cells are always hidden, external never).
    iterations, cuts : int
        Rounds of the cut-generation loop and cuts added.
    seconds : float
        Time taken.
    unprotected : list of str
        Sensitive cells no suppression pattern can protect (e.g. a count also published
        elsewhere); they are hidden, but the audit will fail on them.
    """

    problem: DisclosureProblem
    hidden: np.ndarray
    iterations: int
    cuts: int
    seconds: float
    unprotected: list[str]

    @property
    def n_primary(self) -> int:
        """Number of sensitive (primary suppressed) cells."""
        return int(self.problem.cells["primary"].sum())

    @property
    def n_secondary(self) -> int:
        """Number of published counts hidden only to protect sensitive ones."""
        c = self.problem.cells
        return int((self.hidden & (c["role"] == "count").to_numpy() & ~c["primary"].to_numpy()).sum())

    def cells(self) -> pd.DataFrame:
        """Tidy table of every published count with its status: shown, primary or secondary.

        Examples
        --------
        >>> t = pd.DataFrame({"need": ["ASD", "VI", "HI", "Total"], "count": [40, 3, 12, 55]})
        >>> s = suppress(DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("count", dims=["need"],
        ...                                                                      margins={"need": "Total"})}))
        >>> s.cells()[["label", "value", "status"]]
                label  value     status
        0    need=ASD   40.0      shown
        1     need=VI    3.0    primary
        2     need=HI   12.0  secondary
        3  need=Total   55.0      shown
        """
        c = self.problem.cells
        keep = (c["role"] == "count").to_numpy()
        out = c.loc[keep, ["table", "row", "column", "label", "value"]].copy()
        status = np.where(c["primary"].to_numpy(), "primary", np.where(self.hidden, "secondary", "shown"))
        out["status"] = status[keep]
        return out.reset_index(drop=True)

    def summary(self) -> str:
        """One line for the notes of a publication.

        Examples
        --------
        >>> t = pd.DataFrame({"need": ["ASD", "VI", "HI", "Total"], "count": [40, 3, 12, 55]})
        >>> spec = {"t": TableSpec("count", dims=["need"], margins={"need": "Total"})}
        >>> suppress(DisclosureProblem.from_tables({"t": t}, spec)).summary()[:60]
        'counts below 5 hidden: 1 small count(s) and 1 other cell(s) '
        """
        p = self.problem
        return (f"counts below {p.threshold:g} hidden: {self.n_primary} small count(s) and {self.n_secondary} other "
                f"cell(s) hidden so that none can be worked out (secondary suppression by optimisation, "
                f"{self.iterations} round(s), {self.seconds:.2f} s)")


def _weights(problem: DisclosureProblem, weights: Any) -> np.ndarray:
    v = problem.cells["value"].to_numpy()
    if isinstance(weights, str):
        if weights == "cells":  # fewest cells; among those, the smallest values
            return 1.0 + 0.5 * v / (np.abs(v).sum() + 1.0)
        if weights == "values":
            return v + 1.0
        if weights == "log":
            return 1.0 + np.log1p(v)
        raise DisclosureError(f'weights must be "cells", "values", "log", a callable or an array; got {weights!r}')
    w = weights(problem.cells) if callable(weights) else weights
    w = np.asarray(w, dtype=float)
    if w.shape != v.shape or not np.isfinite(w).all() or (w < 0).any():
        raise DisclosureError(f"weights must give one non-negative number per cell ({v.size}); got shape {w.shape}")
    return w


class _Master:
    """The 0/1 programme choosing cells to hide, with the cuts found so far."""

    def __init__(self, w: np.ndarray, ylo: np.ndarray, yhi: np.ndarray):
        self.w, self.ylo, self.yhi = w, ylo, yhi
        self.rows: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.owner: list[int] = []
        self._seen: set = set()

    def add(self, a: np.ndarray, need: float, owner: int) -> bool:
        nz = np.flatnonzero(a > _TOL * need)
        if nz.size == 0:
            return False
        coef = a[nz] / need
        key = (tuple(nz.tolist()), tuple(np.round(coef, 9).tolist()))
        if key in self._seen:
            return False
        self._seen.add(key)
        self.rows.append(nz)
        self.vals.append(coef)
        self.owner.append(owner)
        return True

    def drop(self, owners: set[int]) -> None:
        keep = [i for i, o in enumerate(self.owner) if o not in owners]
        self.rows = [self.rows[i] for i in keep]
        self.vals = [self.vals[i] for i in keep]
        self.owner = [self.owner[i] for i in keep]
        self._seen = {(tuple(r.tolist()), tuple(np.round(v, 9).tolist())) for r, v in zip(self.rows, self.vals)}

    def solve(self, gap: float, time_limit: float) -> tuple[np.ndarray, float] | None:
        """The cheapest pattern within ``gap`` and a lower bound on the optimum; None if infeasible."""
        n = self.w.size
        cons = []
        if self.rows:
            ri = np.concatenate([np.full(r.size, i) for i, r in enumerate(self.rows)])
            A = sp.csr_matrix((np.concatenate(self.vals), (ri, np.concatenate(self.rows))), shape=(len(self.rows), n))
            cons = [LinearConstraint(A, np.ones(len(self.rows)), np.inf)]
        res = milp(self.w, integrality=np.ones(n), bounds=Bounds(self.ylo, self.yhi), constraints=cons,
                   options={"mip_rel_gap": gap, "time_limit": max(time_limit, 1.0)})
        if res.status == 2:
            return None
        if res.x is None:
            raise DisclosureError(f"the secondary suppression programme failed: {res.message}")
        bound = getattr(res, "mip_dual_bound", None)
        return res.x > 0.5, float(res.fun if bound is None or not np.isfinite(bound) else bound)


class _Attacker:
    """Attacks on the sensitive cells for a 0/1 pattern ``y``, remembering for each target a
    successful escape (a certificate: a feasible deviation of the hidden cells that moves the
    target far enough). While every cell a certificate moves stays hidden it still works, so
    the target need not be attacked again; any LP solution is checked as a certificate for
    every target, and one aggregate LP per component certifies many targets at once."""

    def __init__(self, R: sp.csr_matrix, targets: list[tuple[int, int, float]], room_down: np.ndarray,
                 room_up: np.ndarray):
        self.R, self.targets, self.room_down, self.room_up = R, targets, room_down, room_up
        self.t_cell = np.array([t[0] for t in targets], dtype=np.int64)
        self.t_sense = np.array([t[1] for t in targets], dtype=float)
        self.t_need = np.array([t[2] for t in targets], dtype=float)
        self.certificate: dict[int, np.ndarray] = {}
        self.lps = 0
        self._key: bytes | None = None
        self._comps: tuple | None = None

    def _components(self, hidden: np.ndarray):
        key = np.packbits(hidden).tobytes()
        if key != self._key:
            self._key, self._comps = key, _attacker.components(self.R, hidden)
        return self._comps

    def _certified(self, k: int, hidden: np.ndarray) -> bool:
        cert = self.certificate.get(k)
        return cert is not None and bool(hidden[cert].all())

    def _record(self, comp: _attacker.Component, x: np.ndarray) -> None:
        """Keep ``x`` (a feasible deviation on ``comp``) as the certificate of every target it moves far enough."""
        full = np.zeros(self.R.shape[1])
        full[comp.cells] = x
        ok = np.flatnonzero(self.t_sense * full[self.t_cell] >= self.t_need - _TOL)
        if ok.size:
            support = comp.cells[np.abs(x) > 1e-9]
            for k in ok:
                self.certificate[int(k)] = support

    def certify(self, hidden: np.ndarray, skip: set[int]) -> None:
        """Aggregate LPs: per component, maximise the sum of the targets' capped moves."""
        comps, where = self._components(hidden)
        pending: dict[int, list[int]] = {}
        for k in range(len(self.targets)):
            if k not in skip and not self._certified(k, hidden):
                pending.setdefault(int(where[self.t_cell[k]]), []).append(k)
        for ci, ks in pending.items():
            comp = comps[ci]
            for _ in range(4):
                ks = [k for k in ks if not self._certified(k, hidden)]
                if len(ks) < 2:
                    break
                nv, m = comp.cells.size, len(ks)
                pos = np.searchsorted(comp.cells, self.t_cell[ks])
                # variables [z (nv), t (m)]: max sum t, t_k <= sense_k z_pk, 0 <= t_k <= need_k
                ub = sp.csr_matrix((np.concatenate([-self.t_sense[ks], np.ones(m)]),
                                    (np.concatenate([np.arange(m), np.arange(m)]), np.concatenate([pos, nv + np.arange(m)]))),
                                   shape=(m, nv + m))
                kw = {"A_eq": sp.hstack([comp.A, sp.csr_matrix((comp.A.shape[0], m))]).tocsr(),
                      "b_eq": np.zeros(comp.A.shape[0])} if comp.A.shape[0] else {}
                c = np.concatenate([np.zeros(nv), -np.ones(m)])
                bounds = np.column_stack([np.concatenate([-self.room_down[comp.cells], np.zeros(m)]),
                                          np.concatenate([np.minimum(self.room_up[comp.cells], 1e9), self.t_need[ks]])])
                self.lps += 1
                res = linprog(c, A_ub=ub, b_ub=np.zeros(m), bounds=bounds, method="highs", **kw)
                if res.status != 0:
                    break
                before = sum(self._certified(k, hidden) for k in ks)
                self._record(comp, res.x[:nv])
                if sum(self._certified(k, hidden) for k in ks) == before:
                    break

    def attack(self, k: int, hidden: np.ndarray) -> np.ndarray | None:
        """Cut coefficients if target ``k`` can be narrowed too much under ``hidden``, else None."""
        if self._certified(k, hidden):
            return None
        p, s, need = self.targets[k]
        comps, where = self._components(hidden)
        comp = comps[where[p]]
        j = int(np.searchsorted(comp.cells, p))
        self.lps += 1
        val, lam, x = _attacker.solve(comp.A, np.zeros(comp.A.shape[0]), -self.room_down[comp.cells],
                                      self.room_up[comp.cells], j, s)
        if x is not None:
            self._record(comp, x)
        if val >= need - _TOL:
            if x is None:  # unbounded: safe while this component stays as it is
                self.certificate[k] = comp.cells
            return None
        return _attacker.cut(self.R, comp.rows, lam, p, s, self.room_down, self.room_up, need)

    def violations(self, hidden: np.ndarray, skip: set[int]) -> set[int]:
        """Targets whose protection fails under ``hidden``."""
        self.certify(hidden, skip)
        return {k for k in range(len(self.targets)) if k not in skip and self.attack(k, hidden) is not None}


def suppress(problem: DisclosureProblem, *, weights: str | Callable | np.ndarray = "cells",
             small_marker: bool = False, method: Literal["optimal", "greedy"] = "optimal",
             max_iterations: int = 500, time_limit: float = 60.0) -> Suppression:
    """Choose the cells to hide: all sensitive counts, plus the cheapest set of others that protects them.

    Every sensitive cell must keep, against an attacker who knows every shown cell, every
    relation and that counts are non-negative, a range covering its protection interval
    (both ways). Solved by cut generation (Fischetti and Salazar): a 0/1 master programme
    picks the cells of least weight to hide; each sensitive cell is attacked by LP (max and
    min of the cell); a successful attack adds a cut built from the LP's duals that every
    safe pattern satisfies; repeat until no attack succeeds. The last master is solved to
    optimality, so the pattern is the cheapest that passes every attack.

    Parameters
    ----------
    problem : DisclosureProblem
    weights : {"cells", "values", "log"}, callable or array
        Cost of hiding each cell: ``"cells"`` (default) hides the fewest cells, the
        smallest ones among equals; ``"values"`` the least total count (tau-Argus's
        default); ``"log"`` between the two; or a number per cell.
    small_marker : bool
        The publication will show hidden sensitive counts with their own marker (``"<5"``),
        which tells a reader they lie in ``[1, threshold - 1]``: protect against that
        reader too (needs a protection interval inside that band, i.e. "band").
    method : {"optimal", "greedy"}
        ``"optimal"`` (default): cut generation to the cheapest pattern. ``"greedy"``: one
        pass of attack-and-repair from the sensitive cells alone (hide, for each successful
        attack, the cell its cut values most per unit of weight; then unhide cells no
        escape uses): safe, fast, not minimal; for very large outputs.
    max_iterations : int
        Rounds of the cut loop before giving up on proving optimality: the cheapest safe
        pattern found so far is used, with a warning giving its cost and the lower bound.
    time_limit : float
        Seconds, with the same fallback.

    Returns
    -------
    Suppression

    Examples
    --------
    A 3 x 3 table with published margins and one small count: the fewest cells hiding it
    are the other three corners of a rectangle (here the one with the smallest counts,
    30 + 25 + 17; among equally few cells, smaller ones are preferred as far as the
    solver's tolerance allows).

    >>> t = pd.DataFrame({"row": list("aaabbbccc"), "col": list("xyzxyzxyz"),
    ...                   "n": [2, 30, 41, 25, 17, 60, 33, 44, 15]})
    >>> s = suppress(DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("n", dims=["row", "col"],
    ...                                                                      external_margins=True)}))
    >>> s.cells().query("status != 'shown'")[["label", "value", "status"]]
              label  value     status
    0  row=a, col=x    2.0    primary
    1  row=a, col=y   30.0  secondary
    3  row=b, col=x   25.0  secondary
    4  row=b, col=y   17.0  secondary
    """
    t0 = time.perf_counter()
    c = problem.cells
    n = len(c)
    R = problem.relations
    v = c["value"].to_numpy()
    role = c["role"].to_numpy()
    prim = c["primary"].to_numpy()
    latent = role == "latent"
    hidden = prim | latent
    if method not in ("optimal", "greedy"):
        raise DisclosureError(f'method must be "optimal" or "greedy"; got {method!r}')
    if not prim.any():
        return Suppression(problem, hidden & (role != "external"), 0, 0, time.perf_counter() - t0, [])
    req_lo = c["required_lower"].to_numpy()
    req_hi = c["required_upper"].to_numpy()
    LB, UB = np.zeros(n), np.full(n, np.inf)
    if small_marker:
        band_lo, band_hi = problem.band()
        outside = prim & ((req_lo < band_lo - _TOL) | (req_hi > band_hi + _TOL))
        if outside.any():
            raise DisclosureError(f"small_marker=True tells readers hidden small counts lie in [{band_lo:g}, "
                                  f"{band_hi:g}], which cannot cover the protection {problem.protection!r}; use "
                                  'protection="band" or one marker for every hidden cell')
        LB[prim], UB[prim] = band_lo, band_hi
    room_down, room_up = v - LB, UB - v
    ylo = (prim | latent).astype(float)
    yhi = (role != "external").astype(float)
    targets = [(int(p), s, float(nd)) for p in np.flatnonzero(prim)
               for s, nd in ((+1, req_hi[p] - v[p]), (-1, v[p] - req_lo[p])) if nd > _TOL]
    master = _Master(_weights(problem, weights), ylo, yhi)
    _seed_cuts(master, R, targets, room_down, room_up, ylo > 0.5)
    attacker = _Attacker(R, targets, room_down, room_up)
    w = master.w
    excluded: set[int] = set()
    fixed = (ylo > 0.5) | (yhi < 0.5)

    def repair(y: np.ndarray) -> tuple[np.ndarray, int, bool]:
        """Attack ``y``; after each successful attack add its cut and hide the cell the cut
        values most per unit of weight, then attack again. Gives many cuts per master solve
        and, at the end, a safe pattern (pruned of cells no certificate uses)."""
        work = y.copy()
        added, ok = 0, True
        attacker.certify(work, excluded)
        for k in range(len(targets)):
            if k in excluded:
                continue
            for _ in range(n):
                a = attacker.attack(k, work)
                if a is None:
                    break
                added += master.add(a, targets[k][2], k)
                cand = np.flatnonzero(~work & (a > _TOL) & (yhi > 0.5))
                if cand.size == 0:
                    ok = False
                    break
                work[cand[np.argmax(a[cand] / np.maximum(w[cand], 1e-12))]] = True
        if ok:  # a hidden cell that no target's escape uses protects nothing
            used = np.zeros(n, dtype=bool)
            for k in range(len(targets)):
                if k not in excluded:
                    used[attacker.certificate[k]] = True
            work &= used | fixed
        return work, added, ok

    iterations = 0
    converged = False
    best, best_cost, bound = None, np.inf, -np.inf
    # early rounds: a good pattern is enough. The last is solved to within half a unit of
    # weight: exact for "cells" (whole cells; the tie-break by size adds under 0.5) and for
    # "values" on whole counts, without proving the tie-break, which is what makes MILPs slow.
    final_gap = 0.5 / max(float(w @ yhi), 1.0) if isinstance(weights, str) and weights != "log" else 1e-6
    gap = max(0.05, final_gap)
    if method == "greedy":
        best, _, ok = repair(hidden.copy())
        converged = ok
        best_cost = float(w @ best)
        hidden = best
    while method == "optimal" and iterations < max_iterations and time.perf_counter() - t0 < time_limit:
        iterations += 1
        solved = master.solve(gap, time_limit - (time.perf_counter() - t0))
        if solved is None:  # some small count cannot be protected at all: find it, drop its cuts
            bad = attacker.violations(role != "external", excluded)
            if not bad:
                raise DisclosureError("the secondary suppression programme is infeasible although every small count "
                                      "can be protected; please report this with the tables")
            excluded |= bad
            master.drop(bad)
            best, best_cost = None, np.inf
            continue
        y, bound = solved
        hidden = y
        work, added, ok = repair(y)
        if added == 0:
            if gap <= final_gap:
                converged = True
                break
            gap = final_gap
            continue
        if ok and w @ work < best_cost:
            best, best_cost = work, float(w @ work)
        if best is not None and best_cost <= bound + final_gap * max(1.0, abs(bound)):
            hidden, converged = best, True  # the safe pattern costs no more than the lower bound
            break
    if not converged and best is not None:
        hidden = best
        warnings.warn(f"secondary suppression stopped after {iterations} round(s) / {time_limit:g} s before proving "
                      f"the fewest cells; the safe pattern found costs {best_cost:.4g} against a lower bound of "
                      f"{bound:.4g}", DisclosureWarning, stacklevel=2)
    elif not converged:
        hidden = _fallback(attacker, hidden, role, excluded)
        warnings.warn(f"secondary suppression stopped after {iterations} round(s) / {time_limit:g} s without a safe "
                      "pattern; whole linked groups of cells around unprotected small counts were hidden",
                      DisclosureWarning, stacklevel=2)
    bad_cells = sorted({targets[k][0] for k in excluded})
    unprotected = [f"{c.at[p, 'table']}: {c.at[p, 'label']}, {c.at[p, 'column']}" for p in bad_cells]
    if unprotected:
        warnings.warn(f"{len(bad_cells)} small count(s) cannot be protected by suppression (e.g. also published "
                      f"elsewhere, or equal to a published total): {unprotected[:5]}; do not publish the total(s) "
                      "that pin them", DisclosureWarning, stacklevel=2)
    hidden = (hidden | prim | latent) & (role != "external")
    return Suppression(problem, hidden, iterations, len(master.rows), time.perf_counter() - t0, unprotected)


def _seed_cuts(master: _Master, R: sp.csr_matrix, targets, room_down, room_up, fixed_on) -> None:
    """Cuts from single relations: no relation of a small count may pin it by itself."""
    Rc = R.tocsc()
    for k, (p, s, need) in enumerate(targets):
        for r in Rc.indices[Rc.indptr[p]:Rc.indptr[p + 1]]:
            lam = np.array([-s / R[r, p]])
            a = _attacker.cut(R, np.array([r]), lam, p, s, room_down, room_up, need)
            if a[fixed_on].sum() < need - _TOL:
                master.add(a, need, k)


def _fallback(attacker: _Attacker, hidden: np.ndarray, role: np.ndarray, excluded: set[int]) -> np.ndarray:
    """Hide every hideable cell linked (through relations) to a still-unprotected count."""
    bad = attacker.violations(hidden, excluded)
    if not bad:
        return hidden
    comps, where = _attacker.components(attacker.R, role != "external")
    out = hidden.copy()
    for k in bad:
        out[comps[where[attacker.targets[k][0]]].cells] = True
    excluded |= attacker.violations(out, excluded)
    return out


# -------------------------------------------------------------------------- publish
def _hidden_mask(problem: DisclosureProblem, hidden: Suppression | np.ndarray) -> np.ndarray:
    mask = hidden.hidden if isinstance(hidden, Suppression) else np.asarray(hidden, dtype=bool)
    if mask.shape != (problem.n_cells,):
        raise DisclosureError(f"hidden must have one flag per cell ({problem.n_cells}); got shape {mask.shape}")
    return mask


def publish(problem: DisclosureProblem, hidden: Suppression | np.ndarray, *, marker: str | None = "c",
            primary_marker: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables ready to write, hidden counts (and their derived columns) replaced by a marker.

    Parameters
    ----------
    problem : DisclosureProblem
    hidden : Suppression or array of bool
        Which cells to hide (one flag per cell of ``problem.cells``).
    marker : str or None
        Text shown in every hidden cell (default ``"c"``, as DfE and ONS do); None leaves
        NaN (blank in a CSV).
    primary_marker : str, optional
        Text for hidden *sensitive* counts only, e.g. ``"<5"``. Not recommended: a reader
        then also learns that a ``"c"`` cell is not a small count (see docs/disclosure.md).

    Returns
    -------
    dict of str to DataFrame
        The tables (positional index), count and derived columns as object columns holding
        numbers or the marker (float with NaN when ``marker`` is None).

    Examples
    --------
    Two resource bases and their total, with a cost column: the 3 is hidden, the 20 too
    (or 23 - 20 would give it away), and so are their costs.

    >>> t = pd.DataFrame({"setting": ["RB1", "RB2", "SS1", "Total"], "on_roll": [3, 20, 50, 73],
    ...                   "cost_pp": [24000, 21000, 29000, None]})
    >>> t["cost"] = t["on_roll"] * t["cost_pp"]
    >>> spec = TableSpec("on_roll", dims=["setting"], margins={"setting": "Total"},
    ...                  derived={"cost": ("on_roll", "cost_pp")})
    >>> p = DisclosureProblem.from_tables({"t": t}, {"t": spec})
    >>> publish(p, suppress(p))["t"][["on_roll", "cost"]].values.tolist()
    [['c', 'c'], ['c', 'c'], [50, 1450000.0], [73, nan]]
    """
    mask = _hidden_mask(problem, hidden)
    c = problem.cells
    out = {}
    for name, table in problem.tables.items():
        t = table.copy()
        sel = (c["table"] == name).to_numpy() & (c["role"] == "count").to_numpy()
        hide: dict[str, list[tuple[int, Any]]] = {}
        for cid in np.flatnonzero(sel & mask):
            text = primary_marker if (primary_marker is not None and c.at[cid, "primary"]) else marker
            hide.setdefault(c.at[cid, "column"], []).append((int(c.at[cid, "row"]), text))
        d = problem.derived
        if len(d):
            dd = d[(d["table"] == name).to_numpy()]
            for r, col, cid in zip(dd["row"], dd["column"], dd["cell"]):
                if mask[int(cid)]:
                    hide.setdefault(col, []).append((int(r), marker))
        for col, items in hide.items():
            if marker is None and primary_marker is None:
                t[col] = pd.to_numeric(t[col], errors="coerce").astype(float)
                t.loc[[r for r, _ in items], col] = np.nan
            else:
                values = t[col].astype(object).tolist()
                for r, text in items:
                    values[r] = np.nan if text is None else text
                t[col] = pd.Series(values, index=t.index, dtype=object)
        out[name] = t
    return out


# ---------------------------------------------------------------------------- audit
@dataclass
class AuditResult:
    """What an attacker can infer about each hidden cell of a publication.

    Attributes
    ----------
    frame : DataFrame
        One row per hidden count and per sensitive count: ``table``, ``row``, ``column``,
        ``label``, ``value`` (true), ``status`` (``primary``, ``secondary`` or ``shown``
        for a sensitive count left visible), ``lower``/``upper`` (the attacker's range),
        ``required_lower``/``required_upper`` (protection interval, sensitive cells only)
        and ``ok``.
    seconds : float
    threshold : float
    """

    frame: pd.DataFrame
    seconds: float
    threshold: float

    @property
    def passed(self) -> bool:
        """True when no sensitive count can be narrowed below its protection interval."""
        return bool(self.frame["ok"].all())

    @property
    def failures(self) -> pd.DataFrame:
        """Rows of :attr:`frame` whose protection fails."""
        return self.frame[~self.frame["ok"]]

    def summary(self) -> str:
        """One paragraph for the notes of a publication.

        Examples
        --------
        >>> t = pd.DataFrame({"need": ["ASD", "VI", "HI", "Total"], "count": [40, 3, 12, 55]})
        >>> p = DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("count", dims=["need"],
        ...                                                            margins={"need": "Total"})})
        >>> print(audit(p, publish(p, suppress(p))).summary())  # doctest: +NORMALIZE_WHITESPACE
        disclosure audit passed: 2 hidden count(s) (1 below 5, 1 secondary) in 1 table(s); for every
        small count the range a reader can work out from all published tables, totals and derived
        values (by linear programming) covers its protection interval.
        """
        f = self.frame
        hid = f[f["status"] != "shown"]
        n_p, n_s = int((hid["status"] == "primary").sum()), int((hid["status"] == "secondary").sum())
        head = (f"{len(hid)} hidden count(s) ({n_p} below {self.threshold:g}, {n_s} secondary) in "
                f"{hid['table'].nunique()} table(s)")
        if self.passed:
            return (f"disclosure audit passed: {head}; for every small count the range a reader can work out from "
                    "all published tables, totals and derived values (by linear programming) covers its "
                    "protection interval.")
        bad = self.failures
        eg = "; ".join(f"{r.table}: {r.label}, {r.column} narrowed to [{r.lower:g}, {r.upper:g}]"
                       for r in bad.head(3).itertuples())
        return f"disclosure audit FAILED: {head}; {len(bad)} small count(s) can be worked out too closely, e.g. {eg}."

    def check(self) -> AuditResult:
        """Raise :class:`DisclosureError` if any small count is not protected; else return self.

        Examples
        --------
        >>> t = pd.DataFrame({"need": ["ASD", "VI", "Total"], "count": [40, 3, 43]})
        >>> p = DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("count", dims=["need"],
        ...                                                            margins={"need": "Total"})})
        >>> shown_total = p.publish(np.array([False, True, False]))   # only the 3 hidden
        >>> audit(p, shown_total).check()
        Traceback (most recent call last):
        ...
        senforecast.reporting.disclosure.DisclosureError: disclosure audit FAILED: 1 hidden count(s) (1 below 5, 0 secondary) in 1 table(s); 1 small count(s) can be worked out too closely, e.g. t: need=VI, count narrowed to [3, 3].
        """
        if not self.passed:
            raise DisclosureError(self.summary())
        return self


_LESS_THAN = re.compile(r"^\s*<\s*(\d+(?:\.\d+)?)\s*$")


def audit(problem: DisclosureProblem, published: Mapping[str, pd.DataFrame], *, integer: bool = False) -> AuditResult:
    """Attack a publication: for every hidden count, the range a reader can infer from everything published.

    The attacker knows every shown count and derived value of ``published``, every total
    published elsewhere (external cells), every relation of ``problem`` (within and across
    tables), that counts are non-negative, and what markers say (``"<5"``: from 1 to 4, or
    0 to 4 when zeros are sensitive; any other marker or a blank: nothing). The range of
    each hidden count is its minimum and maximum over all tables consistent with that
    knowledge, by linear programming (integrality relaxed unless ``integer=True``). The
    suppression pattern that made ``published`` is not used.

    Parameters
    ----------
    problem : DisclosureProblem
        Relations and true values (the true values only label the result and check that
        shown numbers are the true ones).
    published : mapping of str to DataFrame
        The tables as they would be written (e.g. from :func:`publish`), same rows and
        columns as ``problem.tables``.
    integer : bool
        Also use that counts are whole numbers (exact but slower: integer programmes).

    Returns
    -------
    AuditResult

    Examples
    --------
    The probe's leak: the on-roll count is hidden but the yearly cost beside it is not.

    >>> t = pd.DataFrame({"setting": ["RB1", "RB2"], "on_roll": [3, 20], "cost_per_place": [24000, 21000],
    ...                   "yearly_cost": [72000, 420000]})
    >>> p = DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("on_roll", dims=["setting"],
    ...                                   derived={"yearly_cost": ("on_roll", "cost_per_place")})})
    >>> leaky = {"t": t.assign(on_roll=["<5", 20])}
    >>> audit(p, leaky).frame[["label", "value", "lower", "upper", "ok"]]
             label  value  lower  upper     ok
    0  setting=RB1    3.0    3.0    3.0  False
    >>> audit(p, publish(p, suppress(p))).passed   # the cost is hidden with the count
    True
    """
    t0 = time.perf_counter()
    c = problem.cells
    n = len(c)
    v = c["value"].to_numpy()
    role = c["role"].to_numpy()
    hidden = role == "latent"
    lower = np.zeros(n)
    upper = np.full(n, np.inf)
    values = np.where(role == "external", v, 0.0)
    band_lo, band_hi = problem.band()
    missing = [t for t in problem.tables if t not in published]
    if missing:
        raise DisclosureError(f"the publication lacks table(s) {missing}")
    pubs = {}
    for name, table in problem.tables.items():
        pub = published[name].reset_index(drop=True)
        pub.columns = [str(x) for x in pub.columns]
        if len(pub) != len(table):
            raise DisclosureError(f"published table {name!r} has {len(pub)} rows; the problem's has {len(table)}")
        pubs[name] = pub
    is_count = role == "count"
    groups = c[is_count].groupby(["table", "column"], sort=False).indices
    count_ids = np.flatnonzero(is_count)
    rows_arr = c["row"].to_numpy()
    for (name, col), pos in groups.items():
        if col not in pubs[name].columns:
            raise DisclosureError(f"published table {name!r} has no column {col!r}")
        ids = count_ids[pos]
        raw_col = pubs[name][col].to_numpy(dtype=object)
        for cid in ids:
            raw = raw_col[rows_arr[cid]]
            lo, hi, shown_value = _read_cell(raw, band_lo, band_hi)
            if shown_value is not None:
                if abs(shown_value - v[cid]) > 1e-9 * max(1.0, abs(v[cid])):
                    raise DisclosureError(f"{_where(c, cid)} is published as {shown_value:g} but the count is "
                                          f"{v[cid]:g}; the audit needs exact published counts (rounded outputs are "
                                          "not supported)")
                values[cid] = shown_value
            else:
                if not (lo - 1e-9 <= v[cid] <= hi + 1e-9):
                    raise DisclosureError(f"{_where(c, cid)} is shown as {raw!r} but the count is {v[cid]:g}")
                hidden[cid] = True
                lower[cid], upper[cid] = lo, hi
    d = problem.derived
    for name, col, row, cid, f, o, rnd in zip(d["table"], d["column"], d["row"], d["cell"], d["factor"],
                                             d["offset"], d["rounding"]):
        cid = int(cid)  # a derived value shown beside a hidden count bounds it
        if not hidden[cid] or not np.isfinite(f) or not np.isfinite(o) or abs(f) < 1e-12:
            continue
        _, _, dv = _read_cell(pubs[name][col].iat[int(row)], band_lo, band_hi)
        if dv is None:
            continue
        a, b = sorted(((dv - rnd - o) / f, (dv + rnd - o) / f))
        lower[cid] = max(lower[cid], a)
        upper[cid] = min(upper[cid], b)
    counts = role == "count"
    prim = c["primary"].to_numpy()
    targets = np.flatnonzero(hidden & counts)
    lo_r, hi_r = _attacker.ranges(problem.relations, hidden, values, lower, upper, targets, integer=integer)
    rows = np.concatenate([targets, np.flatnonzero(prim & ~hidden)])
    lo_all = np.concatenate([lo_r, v[prim & ~hidden]])
    hi_all = np.concatenate([hi_r, v[prim & ~hidden]])
    frame = c.loc[rows, ["table", "row", "column", "label", "value", "required_lower", "required_upper"]].copy()
    frame.insert(5, "status", np.where(~hidden[rows], "shown", np.where(prim[rows], "primary", "secondary")))
    frame.insert(6, "lower", lo_all)
    frame.insert(7, "upper", hi_all)
    req_lo, req_hi = frame["required_lower"].to_numpy(), frame["required_upper"].to_numpy()
    ok = ~prim[rows] | ((lo_all <= req_lo + 1e-6) & (hi_all >= req_hi - 1e-6))
    frame["ok"] = ok
    frame = frame.sort_values(["table", "row", "column"], kind="stable").reset_index(drop=True)
    return AuditResult(frame, time.perf_counter() - t0, problem.threshold)


def _where(c: pd.DataFrame, cid: int) -> str:
    return (f"table {c.at[cid, 'table']!r}, row {int(c.at[cid, 'row'])}, column {c.at[cid, 'column']!r} "
            f"({c.at[cid, 'label']})")


def _read_cell(raw: Any, band_lo: float, band_hi: float) -> tuple[float, float, float | None]:
    """(lower, upper, shown value or None) of a published cell."""
    if isinstance(raw, str):
        m = _LESS_THAN.match(raw)
        if m:
            limit = float(m.group(1))
            return band_lo, (limit - 1 if limit.is_integer() else math.floor(limit)), None
        try:
            x = float(raw.replace(",", ""))
        except ValueError:
            return 0.0, np.inf, None
        return x, x, x
    if raw is None or (isinstance(raw, float) and math.isnan(raw)) or raw is pd.NA:
        return 0.0, np.inf, None
    try:
        x = float(raw)
    except (TypeError, ValueError):
        return 0.0, np.inf, None
    if not math.isfinite(x):
        return 0.0, np.inf, None
    return x, x, x


def check(problem: DisclosureProblem, published: Mapping[str, pd.DataFrame], **kwargs: Any) -> AuditResult:
    """:func:`audit` a publication and raise :class:`DisclosureError` if any small count can be recovered.

    Examples
    --------
    >>> t = pd.DataFrame({"need": ["ASD", "VI", "HI", "Total"], "count": [40, 3, 12, 55]})
    >>> p = DisclosureProblem.from_tables({"t": t}, {"t": TableSpec("count", dims=["need"],
    ...                                                            margins={"need": "Total"})})
    >>> check(p, publish(p, suppress(p))).passed
    True
    """
    return audit(problem, published, **kwargs).check()


# --------------------------------------------------------------------------- one call
@dataclass
class Protected:
    """Result of :func:`protect`: the tables to write, the suppression and the audit."""

    tables: dict[str, pd.DataFrame]
    suppression: Suppression
    audit: AuditResult
    problem: DisclosureProblem


def protect(tables: Mapping[str, pd.DataFrame], specs: Mapping[str, TableSpec], *,
            bases: Mapping[str, pd.DataFrame] | None = None, threshold: float = 5, zeros_sensitive: bool = False,
            protection: Protection = "band", weights: str | Callable | np.ndarray = "cells",
            marker: str | None = "c", primary_marker: str | None = None, strict: bool = True) -> Protected:
    """Protect a set of linked tables in one call: build, suppress, publish, audit.

    Parameters
    ----------
    tables, specs, bases, threshold, zeros_sensitive, protection
        See :meth:`DisclosureProblem.from_tables`.
    weights
        See :func:`suppress`.
    marker, primary_marker
        See :func:`publish`.
    strict : bool
        Raise :class:`DisclosureError` when the audit fails (default); else return the
        failing audit for the caller to report.

    Returns
    -------
    Protected

    Examples
    --------
    >>> t = pd.DataFrame({"need": ["ASD", "VI", "HI", "Total"], "count": [40, 3, 12, 55]})
    >>> out = protect({"t": t}, {"t": TableSpec("count", dims=["need"], margins={"need": "Total"})})
    >>> out.tables["t"]["count"].tolist(), out.audit.passed
    ([40, 'c', 'c', 55], True)
    """
    problem = DisclosureProblem.from_tables(tables, specs, bases=bases, threshold=threshold,
                                            zeros_sensitive=zeros_sensitive, protection=protection)
    sup = suppress(problem, weights=weights, small_marker=primary_marker is not None)
    out = publish(problem, sup, marker=marker, primary_marker=primary_marker)
    result = audit(problem, out)
    if strict:
        result.check()
    return Protected(out, sup, result, problem)
