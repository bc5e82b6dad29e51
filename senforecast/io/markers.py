"""Reading published counts that contain suppression and 'not applicable' markers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.errors import Problem

SUPPRESSION_MARKERS: frozenset[str] = frozenset({"c", "x", "z", "*", "..", ":", "-", "~", "low", "[c]", "[x]", "[z]"})
"""Markers publishers put in place of a number (DfE: c suppressed, x not available, z not
applicable; StatsWales: ``..``, ``*``; ONS: ``:``)."""


def parse_counts(
    values: pd.Series,
    *,
    file: str,
    column: str,
    first_row: int = 2,
    markers: frozenset[str] = SUPPRESSION_MARKERS,
) -> tuple[pd.Series, list[Problem], list[Problem]]:
    """Turn a column of published counts into floats, with markers as missing.

    Parameters
    ----------
    values : Series
        Raw cell values (strings or numbers); thousands separators are allowed.
    file, column : str
        Where the values came from, for messages.
    first_row : int
        Spreadsheet row number of ``values.iloc[0]`` (2 when the header is row 1).
    markers : frozenset of str
        Cell texts that mean "no number here".

    Returns
    -------
    counts : Series of float
        NaN where a marker stood.
    suppressed : list of Problem
        One warning per marker cell (so the caller can count and report them).
    invalid : list of Problem
        One error per cell that is neither a number nor a marker, or is negative.

    Examples
    --------
    >>> s, sup, bad = parse_counts(pd.Series(["12", "c", "1,204", "oops"]), file="t.csv", column="n")
    >>> s.tolist()[:3], len(sup), str(bad[0])
    ([12.0, nan, 1204.0], 1, "t.csv, row 5, column 'n': expected a count or a suppression marker (found 'oops')")
    """
    raw = values.astype("object")
    text = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
    is_marker = text.map(lambda v: isinstance(v, str) and v.lower() in markers).astype(bool)
    cleaned = text.map(lambda v: v.replace(",", "") if isinstance(v, str) else v)
    nums = pd.to_numeric(cleaned.where(~is_marker), errors="coerce").astype(float)
    blank = text.isna() | text.map(lambda v: isinstance(v, str) and v == "").astype(bool)
    bad_mask = nums.isna() & ~is_marker & ~blank
    neg_mask = nums < 0
    positions = np.arange(len(values)) + first_row
    suppressed = [
        Problem(file, int(r), column, "suppressed or unavailable value read as missing", v)
        for r, v in zip(positions[is_marker.to_numpy()], raw[is_marker.to_numpy()])
    ]
    invalid = [
        Problem(file, int(r), column, "expected a count or a suppression marker", v)
        for r, v in zip(positions[bad_mask.to_numpy()], raw[bad_mask.to_numpy()])
    ] + [
        Problem(file, int(r), column, "counts cannot be negative", v)
        for r, v in zip(positions[neg_mask.to_numpy()], raw[neg_mask.to_numpy()])
    ]
    return nums.where(~blank, np.nan), suppressed, invalid
