"""How the national growth of an age group / setting is carried into the next years.

The pooled trend model splits each series' log growth into England's growth, its region's
deviation and its own; this module decides the England part of the forecast growth from the
national growth history ``g[t]`` of each group:

* ``last`` - the latest year's growth, every year ahead (the original behaviour);
* ``mean`` - the mean of the last ``window`` years;
* ``smoothed`` - exponential smoothing of growth with its weight *estimated*: growth is taken
  as a random walk plus noise (a local linear trend in the log count), whose lag-1
  autocorrelation of changes is ``-1 / (q + 2)`` with ``q`` the signal-to-noise ratio, and the
  steady-state Kalman weight is ``(-q + sqrt(q^2 + 4q)) / 2`` (1 = last year, 0 = long mean);
* ``damped`` - the smoothed growth, shrinking each year ahead by ``phi``, the estimated
  persistence of growth (least-squares AR(1) through zero of growth on last year's growth);
* ``accelerating`` - the smoothed growth plus its smoothed yearly change, damped by ``phi``
  (growth itself has a trend: the model for accelerating demand).

Parameters are estimated from the national growth of every group in the panel pooled (one
value per panel and origin), using data up to the origin only.
"""
from __future__ import annotations

import warnings

import numpy as np

GROWTH_MODELS = ("last", "mean", "smoothed", "damped", "accelerating")


def smoothing_weight(G: np.ndarray) -> float:
    """Estimated exponential-smoothing weight of growth (random walk + noise), pooled over rows.

    Parameters
    ----------
    G : ndarray, shape (n_rows, n_years)
        Growth series (NaN = missing).

    Returns
    -------
    float in [0, 1]
        1 when changes of growth are uncorrelated (growth is a random walk: last year is the
        best guess), 0 when they are perfectly negatively correlated (growth is constant + noise).

    Examples
    --------
    Growth that is a random walk observed with noise of the same variance (q = 1, weight 0.62):

    >>> rng = np.random.default_rng(0)
    >>> level = np.cumsum(rng.normal(0, 0.02, (400, 30)), axis=1)
    >>> round(smoothing_weight(level + rng.normal(0, 0.02, (400, 30))), 1)
    0.6
    >>> smoothing_weight(rng.normal(0.05, 0.02, (400, 30))) < 0.3  # constant + noise: near 0
    True
    """
    d = np.diff(G, axis=1)
    rhos, wts = [], []
    for row in d:  # per row (groups differ in scale by orders of magnitude), then averaged
        a, b = row[1:], row[:-1]
        ok = np.isfinite(a) & np.isfinite(b)
        a, b = a[ok], b[ok]
        if ok.sum() < 3 or not (np.any(a) and np.any(b)):
            continue
        rhos.append(float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b))))
        wts.append(ok.sum())
    if not rhos:
        return 1.0
    rho = float(np.average(rhos, weights=wts))
    if rho >= 0:
        return 1.0
    rho = max(rho, -0.5)
    q = -1.0 / rho - 2.0
    return float((-q + np.sqrt(q * q + 4 * q)) / 2)


def persistence(G: np.ndarray) -> float:
    """Estimated yearly persistence ``phi`` of growth: AR(1) through zero, pooled, in [0, 1].

    Examples
    --------
    >>> g = 0.1 * 0.8 ** np.arange(10)[None]  # growth fading 20% a year
    >>> round(persistence(np.repeat(g, 3, axis=0)), 2)
    0.8
    """
    a, b = G[:, 1:].ravel(), G[:, :-1].ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2 or not np.any(b[ok]):
        return 1.0
    return float(np.clip(np.sum(a[ok] * b[ok]) / np.sum(b[ok] ** 2), 0.0, 1.0))


def _smooth(g: np.ndarray, lam: float, trend: bool) -> tuple[float, float]:
    """Exponentially smoothed level (and, with ``trend``, Holt's change) of one series, NaNs skipped."""
    g = g[np.isfinite(g)]
    if len(g) == 0:
        return 0.0, 0.0
    level, change = g[0], 0.0
    for x in g[1:]:
        new = lam * x + (1 - lam) * (level + change)
        if trend:
            change = lam * (new - level) + (1 - lam) * change
        level = new
    return float(level), float(change)


def growth_path(G: np.ndarray, horizon: int, method: str = "last", window: int = 3) -> np.ndarray:
    """National growth of each row for each year ahead, from its history up to the origin.

    Parameters
    ----------
    G : ndarray, shape (n_rows, n_years)
        National log growth by group (columns up to the origin).
    horizon : int
        Years ahead.
    method : str
        One of :data:`GROWTH_MODELS`.
    window : int
        Years averaged by ``mean``.

    Returns
    -------
    ndarray, shape (n_rows, horizon)

    Examples
    --------
    >>> G = np.array([[0.01, 0.02, 0.03, 0.04, 0.05]])
    >>> growth_path(G, 2, "last").tolist(), growth_path(G, 2, "mean").tolist()
    ([[0.05, 0.05]], [[0.04, 0.04]])
    >>> bool(growth_path(G, 2, "accelerating")[0, 1] > 0.05)  # growth keeps rising
    True
    """
    n, _ = G.shape
    if method not in GROWTH_MODELS:
        raise ValueError(f"growth must be one of {GROWTH_MODELS}, not {method!r}")
    if G.shape[1] == 0:
        return np.zeros((n, horizon))
    if method == "last":  # the latest year with a growth (a break leaves a gap)
        ok = np.isfinite(G)
        j = np.where(ok.any(axis=1), G.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), G.shape[1] - 1)
        last = np.nan_to_num(G[np.arange(n), j])
        return np.repeat(last[:, None], horizon, axis=1)
    if method == "mean":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            m = np.nanmean(G[:, -max(1, window):], axis=1)
        return np.repeat(np.nan_to_num(m)[:, None], horizon, axis=1)
    lam = smoothing_weight(G)
    sm = np.array([_smooth(row, lam, method == "accelerating") for row in G])  # (n, 2): level, change
    steps = np.arange(1, horizon + 1)
    if method == "smoothed":
        return np.repeat(sm[:, :1], horizon, axis=1)
    phi = persistence(G)
    if method == "damped":
        return sm[:, :1] * phi ** steps[None]
    # accelerating: level + damped cumulative change (phi + phi^2 + ... + phi^h)
    cum = np.cumsum(phi ** steps)
    return sm[:, :1] + sm[:, 1:] * cum[None]
