"""Shared national and regional shocks, so that sums of authorities get honest intervals.

Every authority's log forecast error at horizon h is modelled as

    e[i] = n + r[region(i)] + u[i]

``n`` is England's year effect (the same for every authority in a draw), ``r`` the region's
(the same for every authority of that region) and ``u`` the authority's own. Their variances
``v_n`` and ``v_r`` (per age group / setting and horizon) are estimated from the calibration
errors, the same held-out errors before the origin that calibrate each authority's interval:
the average product of the errors of two *different* authorities at the same origin estimates
``v_n`` (authorities in different regions) or ``v_n + v_r`` (same region). The authority's own
noise cancels out of such products, so no distributional assumption is needed; the sign of a
year's shock is not assumed (its mean is taken as zero), only its size.

Draws use a Gaussian copula: a normal score made of the three components is mapped through the
authority's calibrated error distribution, so each authority's marginal distribution (and its
intervals) is exactly the calibrated one of :class:`~.intervals.GroupedCalibration`, while a
region's or England's sum carries the shared variance. With ``v_n = v_r = 0`` the draws are
independent across authorities (the behaviour before shared shocks).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .intervals import GroupedCalibration


def shared_shock_variances(errors: dict, marginal: GroupedCalibration, region: np.ndarray,
                           max_horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Variance of the national and regional shocks per group and horizon.

    Parameters
    ----------
    errors : dict
        ``{h: (log_errors, sizes, series_index, origin)}`` from
        :func:`~.pooled.calibration_errors` with ``with_origin=True``.
    marginal : GroupedCalibration
        Each series' error scale (its inverse square weights the products).
    region : ndarray of int
        Region of every series.
    max_horizon : int
        Horizons 1..max_horizon are returned; missing ones are extrapolated (variance ~ h^2).

    Returns
    -------
    national, regional : ndarray, shape (n_groups, max_horizon)
        Shock variances (log scale), non-negative.
    n_origins : ndarray of int, shape (n_groups, max_horizon)
        Origins they were estimated from (0 = extrapolated).

    Examples
    --------
    150 authorities in 10 regions; each origin's errors share a national shock (sd 0.05) and
    a regional one (sd 0.03) on top of their own noise (sd 0.1):

    >>> rng = np.random.default_rng(0)
    >>> n, n_orig = 150, 400
    >>> region = np.arange(n) % 10
    >>> e = (rng.normal(0, 0.05, (n_orig, 1)) + rng.normal(0, 0.03, (n_orig, 10))[:, region]
    ...      + rng.normal(0, 0.1, (n_orig, n))).ravel()
    >>> errs = {1: (e, np.full(e.size, 1e4), np.tile(np.arange(n), n_orig), np.repeat(np.arange(n_orig), n))}
    >>> cal = GroupedCalibration(errs, np.zeros(n, int), max_horizon=1)
    >>> vn, vr, k = shared_shock_variances(errs, cal, region, 1)
    >>> np.round(np.sqrt([vn[0, 0], vr[0, 0]]), 2).tolist(), int(k[0, 0])
    ([0.05, 0.03], 400)
    """
    group = marginal.group
    n_groups = int(group.max()) + 1
    region = np.asarray(region)
    n_regions = int(region.max()) + 1
    vn = np.full((n_groups, max_horizon), np.nan)
    vr = np.full((n_groups, max_horizon), np.nan)
    k = np.zeros((n_groups, max_horizon), int)
    for h, (e, s, i, o) in errors.items():
        if h > max_horizon:
            continue
        for g in range(n_groups):
            m = (group[i] == g) & np.isfinite(e) & np.isfinite(s)
            if m.sum() < 3:
                continue
            cal = marginal.by_group.get(g, marginal.pooled)
            w = 1.0 / cal.scale(h, s[m]) ** 2
            we = w * e[m]
            r, oo = region[i[m]], o[m]
            cross_b = norm_b = cross_w = norm_w = 0.0
            for origin in np.unique(oo):
                sel = oo == origin
                rs = np.bincount(r[sel], weights=we[sel], minlength=n_regions)
                rw = np.bincount(r[sel], weights=w[sel], minlength=n_regions)
                rs2 = np.bincount(r[sel], weights=we[sel] ** 2, minlength=n_regions)
                rw2 = np.bincount(r[sel], weights=w[sel] ** 2, minlength=n_regions)
                # products over pairs of different authorities: different regions / same region
                cross_b += rs.sum() ** 2 - np.sum(rs ** 2)
                norm_b += rw.sum() ** 2 - np.sum(rw ** 2)
                cross_w += np.sum(rs ** 2 - rs2)
                norm_w += np.sum(rw ** 2 - rw2)
            if norm_b > 0:
                nat = max(cross_b / norm_b, 0.0)
                both = cross_w / norm_w if norm_w > 0 else nat
                vn[g, h - 1], vr[g, h - 1] = nat, max(both - nat, 0.0)
            elif norm_w > 0:  # one region only: everything shared is national
                vn[g, h - 1], vr[g, h - 1] = max(cross_w / norm_w, 0.0), 0.0
            else:
                continue
            k[g, h - 1] = len(np.unique(oo))
    for g in range(n_groups):
        known = np.flatnonzero(np.isfinite(vn[g]))
        for h in range(1, max_horizon + 1):
            if np.isnan(vn[g, h - 1]):
                if len(known) == 0:
                    vn[g, h - 1] = vr[g, h - 1] = 0.0
                    continue
                j = known[np.argmin(np.abs(known - (h - 1)))]
                f = (h / (j + 1)) ** 2  # as the marginal scale: trend errors grow about with h^2
                vn[g, h - 1], vr[g, h - 1] = vn[g, j] * f, vr[g, j] * f
    return vn, vr, k


@dataclass
class SharedShockCalibration:
    """Calibrated marginal intervals plus national and regional shocks shared by the draws.

    Attributes
    ----------
    marginal : GroupedCalibration
        Each series' own calibrated error distribution (bounds come from it unchanged).
    national, regional : ndarray, shape (n_groups, H)
        Shock variances in log scale.
    region : ndarray of int
        Region of every series.
    n_origins : ndarray of int, shape (n_groups, H)
        Calibration origins behind each variance (0 = extrapolated).

    Examples
    --------
    Two regions of 100 authorities whose errors share a national shock: the England total's
    draws are much wider than they would be with independent authorities.

    >>> rng = np.random.default_rng(1)
    >>> n, n_orig = 200, 300
    >>> region = np.arange(n) % 2
    >>> e = (rng.normal(0, 0.05, (n_orig, 1)) + rng.normal(0, 0.1, (n_orig, n))).ravel()
    >>> errs = {1: (e, np.full(e.size, 1e4), np.tile(np.arange(n), n_orig), np.repeat(np.arange(n_orig), n))}
    >>> cal = SharedShockCalibration.fit(errs, np.zeros(n, int), region, max_horizon=1)
    >>> point, size = np.full((n, 1), 100.0), np.full(n, 1e4)
    >>> shared = cal.draws(point, size, 2000, np.random.default_rng(0)).sum(axis=2)
    >>> alone = cal.draws(point, size, 2000, np.random.default_rng(0), shared=False).sum(axis=2)
    >>> round(float(np.std(np.log(shared)) / np.std(np.log(alone))), 0)  # sqrt(1 + 199 * 0.2) ~ 6
    6.0
    """

    marginal: GroupedCalibration
    national: np.ndarray
    regional: np.ndarray
    region: np.ndarray
    n_origins: np.ndarray

    @classmethod
    def fit(cls, errors: dict, group: np.ndarray, region: np.ndarray, max_horizon: int,
            marginal_origins: int | None = None) -> "SharedShockCalibration":
        """Fit the marginal calibration and the shock variances from calibration errors with origins.

        Parameters
        ----------
        errors : dict
            ``{h: (log_errors, sizes, series_index, origin)}``.
        group, region : ndarray of int
            Group (age group / setting) and region of every series.
        max_horizon : int
        marginal_origins : int, optional
            Only the latest this many origins per horizon calibrate each series' own
            distribution (the shocks use all of ``errors``); default all.
        """
        own = errors
        if marginal_origins is not None:
            own = {}
            for h, (e, s, i, o) in errors.items():
                keep = np.isin(o, np.sort(np.unique(o))[::-1][:marginal_origins])
                own[h] = (e[keep], s[keep], i[keep], o[keep])
        marginal = GroupedCalibration(own, group, max_horizon)
        vn, vr, k = shared_shock_variances(errors, marginal, region, max_horizon)
        return cls(marginal=marginal, national=vn, regional=vr, region=np.asarray(region), n_origins=k)

    def bounds(self, point: np.ndarray, size: np.ndarray, q_lo: float, q_hi: float) -> tuple[np.ndarray, np.ndarray]:
        """Each series' own bounds (the marginal calibration's, unchanged by the shocks)."""
        return self.marginal.bounds(point, size, q_lo, q_hi)

    def draws(self, point: np.ndarray, size: np.ndarray, n_draws: int, rng: np.random.Generator,
              shared: bool = True) -> np.ndarray:
        """Joint draws (n_draws, H, n_series): marginals as calibrated, shocks shared.

        Parameters
        ----------
        point : ndarray, shape (n_series, H)
        size : ndarray, shape (n_series,)
            Count at the origin (sets each series' error scale).
        n_draws : int
        rng : Generator
        shared : bool
            False draws every series independently (same random numbers, shocks set to 0).

        Returns
        -------
        ndarray, shape (n_draws, H, n_series), non-negative.
        """
        n, H = point.shape
        size = np.asarray(size, float)
        out = np.empty((n_draws, H, n))
        n_regions = int(self.region.max()) + 1
        for g, cal in self.marginal.by_group.items():
            m = np.flatnonzero(self.marginal.group == g)
            sd = np.stack([cal.scale(h, size[m]) for h in range(1, H + 1)])[None]  # (1, H, n_g)
            vn = self.national[g, :H][None, :, None] if shared else np.zeros((1, H, 1))
            vr = self.regional[g, :H][None, :, None] if shared else np.zeros((1, H, 1))
            # a shared variance above a small series' own total variance is scaled down to it
            over = np.maximum((vn + vr) / sd**2, 1.0)
            a, b = np.sqrt(vn / over), np.sqrt(vr / over)
            c = np.sqrt(np.maximum(sd**2 - a**2 - b**2, 0.0))
            # one shock per draw, shared over horizons like the authority's own error
            zn = rng.standard_normal((n_draws, 1, 1))
            zr = rng.standard_normal((n_draws, 1, n_regions))[:, :, self.region[m]]
            eps = rng.standard_normal((n_draws, 1, len(m)))
            x = (a * zn + b * zr + c * eps) / sd
            z = _quantile_sorted(np.sort(cal.z), ndtr(x))
            logp = np.log(point[m].T + 1.0)[None]
            out[:, :, m] = np.maximum(np.exp(logp + z * sd) - 1.0, 0.0)
        return out


def _quantile_sorted(zs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.quantile(zs, u)`` (linear rule, as the bounds use) for sorted ``zs`` and an array ``u``."""
    pos = u * (len(zs) - 1)
    i = np.minimum(pos.astype(np.int64), len(zs) - 2) if len(zs) > 1 else np.zeros(pos.shape, np.int64)
    if len(zs) == 1:
        return np.full(pos.shape, zs[0])
    return zs[i] + (pos - i) * (zs[i + 1] - zs[i])
