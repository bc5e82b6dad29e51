"""Forecast accuracy metrics on actuals, point forecasts, intervals and draws."""
from __future__ import annotations

import numpy as np


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def mae(actual, predicted) -> float:
    """Mean absolute error.

    Examples
    --------
    >>> mae([10, 20], [12, 17])
    2.5
    """
    return float(np.mean(np.abs(_arr(actual) - _arr(predicted))))


def wape(actual, predicted) -> float:
    """Weighted absolute percentage error: sum |error| / sum actual (a share, not %).

    Examples
    --------
    >>> wape([10, 30], [12, 27])
    0.125
    """
    a = _arr(actual)
    return float(np.sum(np.abs(a - _arr(predicted))) / np.sum(np.abs(a)))


def mape(actual, predicted) -> float:
    """Mean absolute percentage error over cells with a non-zero actual (a share).

    Examples
    --------
    >>> mape([10, 0, 20], [11, 3, 18])
    0.1
    """
    a, p = _arr(actual), _arr(predicted)
    ok = a != 0
    return float(np.mean(np.abs(a[ok] - p[ok]) / np.abs(a[ok])))


def bias(actual, predicted) -> float:
    """Relative bias: sum(predicted - actual) / sum actual; positive = over-forecast.

    Examples
    --------
    >>> bias([10, 30], [12, 33])
    0.125
    """
    a = _arr(actual)
    return float(np.sum(_arr(predicted) - a) / np.sum(np.abs(a)))


def coverage(actual, lower, upper) -> float:
    """Share of actuals inside [lower, upper].

    Examples
    --------
    >>> coverage([1, 5, 9], [0, 6, 8], [2, 7, 10])
    0.6666666666666666
    """
    a = _arr(actual)
    return float(np.mean((a >= _arr(lower)) & (a <= _arr(upper))))


def interval_score(actual, lower, upper, alpha: float) -> float:
    """Mean interval score of central (1 - alpha) intervals (Gneiting & Raftery 2007); lower is better.

    Examples
    --------
    >>> interval_score([5], [4], [6], alpha=0.2)
    2.0
    >>> interval_score([8], [4], [6], alpha=0.2)
    22.0
    """
    a, lo, hi = _arr(actual), _arr(lower), _arr(upper)
    score = (hi - lo) + (2 / alpha) * (lo - a) * (a < lo) + (2 / alpha) * (a - hi) * (a > hi)
    return float(np.mean(score))


def crps_draws(actual, draws) -> float:
    """Mean continuous ranked probability score from samples (draws on axis 0); lower is better.

    Uses the energy form E|X - y| - 0.5 E|X - X'| computed exactly from sorted draws.

    Examples
    --------
    >>> round(crps_draws([0.0], [[-1.0], [1.0]]), 3)
    0.5
    """
    x = np.sort(_arr(draws), axis=0)
    y = _arr(actual)
    m = x.shape[0]
    term1 = np.mean(np.abs(x - y), axis=0)
    # E|X - X'| = 2/m^2 * sum_i (2i - m - 1) x_(i) for sorted x
    w = (2 * np.arange(1, m + 1) - m - 1).reshape((m,) + (1,) * (x.ndim - 1))
    term2 = np.sum(w * x, axis=0) * 2 / m**2
    return float(np.mean(term1 - 0.5 * term2))
