"""National curriculum year (NCY) helpers: age, phase and key stage.

NCY is the school year group: Reception is 0, nursery years are negative, Year 13 is 13 and the
0-25 range of an EHCP/IDP runs to NCY 20. Age is age at 31 August: ``age = ncy + 5``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

NCY_MIN, NCY_MAX = -5, 25

PHASES: tuple[str, ...] = ("early_years", "primary", "secondary", "post16", "post19")
"""Phases in order: early years (NCY < 0), primary (R-6), secondary (7-11), post-16 (12-14),
post-19 (15+)."""

_PHASE_BINS = np.array([-np.inf, 0, 7, 12, 15, np.inf])


def ncy_to_age(ncy):
    """Age at 31 August of a child in NCY ``ncy``.

    Examples
    --------
    >>> ncy_to_age(0), ncy_to_age(7)
    (5, 12)
    """
    return np.asarray(ncy) + 5 if np.ndim(ncy) else int(ncy) + 5


def age_to_ncy(age):
    """NCY of a child of ``age`` at 31 August (children in their normal year group).

    Examples
    --------
    >>> age_to_ncy(11)
    6
    """
    return np.asarray(age) - 5 if np.ndim(age) else int(age) - 5


def phase(ncy):
    """Phase name of an NCY (scalar or array-like).

    Examples
    --------
    >>> phase(-1), phase(6), phase(7), phase(12), phase(16)
    ('early_years', 'primary', 'secondary', 'post16', 'post19')
    >>> list(phase([0, 11]))
    ['primary', 'secondary']
    """
    idx = np.digitize(np.asarray(ncy, dtype=float), _PHASE_BINS[1:-1])
    names = np.asarray(PHASES, dtype=object)[idx]
    return str(names) if np.ndim(ncy) == 0 else names


def key_stage(ncy):
    """Key stage label: 'EYFS' (NCY <= 0), 'KS1' (1-2), 'KS2' (3-6), 'KS3' (7-9), 'KS4' (10-11),
    'KS5' (12-13), 'post19'-ish ages give 'post16+'.

    Examples
    --------
    >>> key_stage(0), key_stage(2), key_stage(6), key_stage(9), key_stage(11), key_stage(13), key_stage(15)
    ('EYFS', 'KS1', 'KS2', 'KS3', 'KS4', 'KS5', 'post16+')
    """
    bins = np.array([1, 3, 7, 10, 12, 14])
    labels = np.array(["EYFS", "KS1", "KS2", "KS3", "KS4", "KS5", "post16+"], dtype=object)
    out = labels[np.digitize(np.asarray(ncy, dtype=float), bins)]
    return str(out) if np.ndim(ncy) == 0 else out


def ncy_band(ncy, edges=(0, 7, 12, 15)) -> pd.Categorical:
    """Group NCYs into labelled bands, e.g. 'R-6', '7-11', '12-14', '15+' (and '<R').

    Examples
    --------
    >>> list(ncy_band([-1, 3, 8, 13, 18]))
    ['<R', 'R-6', '7-11', '12-14', '15+']
    """

    def lab(lo, hi):
        lo_s = "R" if lo == 0 else str(lo)
        return f"{lo_s}-{hi - 1}" if hi is not None else f"{lo_s}+"

    labels = ["<R"] + [lab(edges[i], edges[i + 1] if i + 1 < len(edges) else None) for i in range(len(edges))]
    idx = np.digitize(np.asarray(ncy, dtype=float), np.asarray(edges, dtype=float))
    return pd.Categorical(np.asarray(labels, dtype=object)[idx], categories=labels, ordered=True)
