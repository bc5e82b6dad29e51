"""Prediction intervals calibrated on held-out years before the forecast origin.

A model's point forecasts are re-made from earlier origins inside the training data, and the
log errors ``log(actual + 1) - log(forecast + 1)`` at each horizon are pooled across series.
Their spread shrinks with size (small authorities are noisier), so the variance at horizon h
is modelled as ``alpha_h + beta_h / (size + 1)``; the standardised errors' empirical
distribution (pooled over horizons) then gives quantiles and draws. Nothing from after the
origin is used, so the intervals are honest on test years.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.errors import ModelError


@dataclass
class LogErrorCalibration:
    """Horizon-dependent log-error scale and standardised error sample.

    Attributes
    ----------
    alpha, beta : ndarray, shape (H,)
        Variance model per horizon 1..H: ``alpha + beta / (size + 1)``.
    z : ndarray
        Standardised errors (error / scale) pooled over horizons and series.

    Examples
    --------
    Log errors with standard deviation 0.1 at horizon 1: the 80% interval around a point
    forecast should hold about 80% of fresh outcomes.

    >>> rng = np.random.default_rng(1)
    >>> size = np.full(2000, 400.0)
    >>> cal = LogErrorCalibration.fit({1: (rng.normal(0, 0.1, 2000), size)}, max_horizon=1)
    >>> round(float(cal.scale(1, np.array([400.0]))[0]), 2)
    0.1
    >>> lo, hi = cal.quantile(0.1), cal.quantile(0.9)
    >>> fresh = rng.normal(0, 0.1, 2000) / cal.scale(1, size)
    >>> round(float(np.mean((fresh > lo) & (fresh < hi))), 1)
    0.8
    """

    alpha: np.ndarray
    beta: np.ndarray
    z: np.ndarray

    @classmethod
    def fit(cls, errors: dict[int, tuple[np.ndarray, np.ndarray]], max_horizon: int,
            symmetric: bool = True) -> "LogErrorCalibration":
        """Fit from ``{h: (log_errors, sizes)}``; horizons with no errors are extrapolated.

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> size = rng.uniform(10, 1000, 4000)
        >>> errs = {h: (rng.normal(0, np.sqrt(0.01 * h), 4000), size) for h in (1, 2)}
        >>> cal = LogErrorCalibration.fit(errs, max_horizon=3)
        >>> np.round(cal.scale(3, np.array([500.0])), 2)  # from horizon 2: sd grows with h
        array([0.21])
        """
        alpha = np.full(max_horizon, np.nan)
        beta = np.full(max_horizon, np.nan)
        zs = []
        for h in range(1, max_horizon + 1):
            if h not in errors:
                continue
            e, s = errors[h]
            ok = np.isfinite(e) & np.isfinite(s)
            e, s = e[ok], s[ok]
            if len(e) < 3:
                continue
            X = np.column_stack([np.ones_like(s), 1.0 / (s + 1.0)])
            # least squares of e^2 on [1, 1/size]; a robust start then non-negative coefficients
            coef, *_ = np.linalg.lstsq(X, e**2, rcond=None)
            a, b = max(coef[0], 1e-6), max(coef[1], 0.0)
            if coef[0] <= 0:  # everything explained by size: refit on size only
                b = max(float(np.sum(X[:, 1] * e**2) / np.sum(X[:, 1] ** 2)), 0.0)
            alpha[h - 1], beta[h - 1] = a, b
            zs.append(e / np.sqrt(a + b / (s + 1.0)))
        known = np.flatnonzero(np.isfinite(alpha))
        if len(known) == 0:
            raise ModelError("not enough history before the forecast origin to calibrate intervals: "
                             "give at least 4 years of data")
        for h in range(1, max_horizon + 1):
            if np.isnan(alpha[h - 1]):
                # error variance of an extrapolated trend grows about with h^2
                j = known[np.argmin(np.abs(known - (h - 1)))]
                f = (h / (j + 1)) ** 2
                alpha[h - 1], beta[h - 1] = alpha[j] * f, beta[j] * f
        z = np.concatenate(zs)
        # past errors share a common shock per year (all authorities under-forecast in 2016, say);
        # its size is informative but not its sign, so the error distribution is symmetrised
        z = np.concatenate([z, -z]) if symmetric else z
        z = z / np.sqrt(np.mean(z**2)) if np.any(z) else z  # unit scale: the variance model carries size
        return cls(alpha=alpha, beta=beta, z=z)

    def scale(self, h: int, size: np.ndarray) -> np.ndarray:
        """Log-error standard deviation at horizon ``h`` for series of the given size."""
        return np.sqrt(self.alpha[h - 1] + self.beta[h - 1] / (np.asarray(size, float) + 1.0))

    def quantile(self, q: float) -> float:
        """Quantile of the standardised error."""
        return float(np.quantile(self.z, q))

    def draws(self, point: np.ndarray, size: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """Draws of the outcome around point forecasts.

        Parameters
        ----------
        point : ndarray, shape (n_series, H)
        size : ndarray, shape (n_series,)
        n_draws : int
        rng : Generator

        Returns
        -------
        ndarray, shape (n_draws, H, n_series), non-negative.
        """
        n, H = point.shape
        # one standardised error per draw and series, shared over horizons: a forecast that is
        # off in year 1 tends to stay off (errors of trend forecasts are strongly correlated)
        z = rng.choice(self.z, size=(n_draws, 1, n))
        sd = np.stack([self.scale(h, size) for h in range(1, H + 1)])  # (H, n)
        logp = np.log(point.T + 1.0)[None]
        return np.maximum(np.exp(logp + z * sd[None]) - 1.0, 0.0)


class GroupedCalibration:
    """One :class:`LogErrorCalibration` per group of series (age group / setting type).

    Groups differ a lot in how predictable they are (a new 20-25 series against the total), so
    each is calibrated on its own errors; a group with too few errors uses all groups' errors.

    Parameters
    ----------
    errors : dict
        ``{h: (log_errors, sizes, series_index)}`` from :func:`calibration_errors`.
    group : ndarray of int
        Group of every series.
    max_horizon : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> group = np.repeat([0, 1], 500)
    >>> errs = {1: (rng.normal(0, np.where(group == 0, 0.05, 0.5)), np.full(1000, 100.0), np.arange(1000))}
    >>> cal = GroupedCalibration(errs, group, max_horizon=1)
    >>> lo, hi = cal.bounds(np.full((1000, 1), 100.0), np.full(1000, 100.0), 0.1, 0.9)
    >>> bool(hi[0, 0] - lo[0, 0] < hi[999, 0] - lo[999, 0])
    True
    """

    def __init__(self, errors: dict, group: np.ndarray, max_horizon: int) -> None:
        self.group = np.asarray(group)
        self.pooled = LogErrorCalibration.fit({h: (v[0], v[1]) for h, v in errors.items()}, max_horizon)
        self.by_group: dict[int, LogErrorCalibration] = {}
        for g in np.unique(self.group):
            sub = {}
            for h, (e, s, i, *_) in errors.items():
                m = self.group[i] == g
                sub[h] = (e[m], s[m])
            try:
                self.by_group[int(g)] = LogErrorCalibration.fit(sub, max_horizon)
            except ModelError:
                self.by_group[int(g)] = self.pooled

    def _sd_and_z(self, size: np.ndarray, H: int):
        sd = np.empty((len(size), H))
        for g, cal in self.by_group.items():
            m = self.group == g
            for h in range(1, H + 1):
                sd[m, h - 1] = cal.scale(h, size[m])
        return sd

    def bounds(self, point: np.ndarray, size: np.ndarray, q_lo: float, q_hi: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper prediction bounds (n_series, H) at quantiles ``q_lo``, ``q_hi``."""
        sd = self._sd_and_z(np.asarray(size, float), point.shape[1])
        zl = np.zeros((len(self.group), 1))
        zh = np.zeros((len(self.group), 1))
        for g, cal in self.by_group.items():
            m = self.group == g
            zl[m], zh[m] = cal.quantile(q_lo), cal.quantile(q_hi)
        lp = np.log(point + 1.0)
        return np.maximum(np.exp(lp + zl * sd) - 1.0, 0.0), np.maximum(np.exp(lp + zh * sd) - 1.0, 0.0)

    def draws(self, point: np.ndarray, size: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """Draws (n_draws, H, n_series) around point forecasts, group by group."""
        out = np.empty((n_draws, point.shape[1], len(point)))
        for g, cal in self.by_group.items():
            m = self.group == g
            out[:, :, m] = cal.draws(point[m], np.asarray(size, float)[m], n_draws, rng)
        return out
