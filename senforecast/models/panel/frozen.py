"""The model choice frozen on the development origins 2016-2019 (see :mod:`senforecast.evaluation.england_selection`).

Written down, and committed, before the held-out origins 2020-2021 were scored. Chosen by the
rules in :mod:`senforecast.evaluation.england_selection` (``development_choice``) on the shipped extract:

* age groups / total: ``pooled_trend`` with England's latest growth carried forward (``last``;
  the estimated smoothing weight of national growth is 1 at every development origin, so
  ``smoothed`` is the same model); mean WAPE on the total over h=1-3 0.0697, against 0.0859
  (mean), 0.0864 (damped), 0.0926 (accelerating);
* specialist settings: ``pooled_share`` with the mean of England's last 3 years of growth
  (``mean``) and the 2017 units reclassification respected (``breaks``); mean improvement on
  the best naive baseline over the four specialist targets and h=1-3 +11.6%, against +4.9%
  for the original ``pooled_share`` and +11.3% / +11.1% for the next best;
* shared shocks estimated from the errors at 6 earlier origins (region / England 80%
  coverage on the development origins 0.764, mean distance from 0.80 0.089; 4 origins:
  0.772, 0.097).
"""
from __future__ import annotations

FROZEN_AGE_MODEL = "pooled_trend"
FROZEN_SETTING_MODEL = "pooled_share_mean_breaks"
FROZEN_VARIANTS = {FROZEN_SETTING_MODEL: {"share_of": "total", "growth": "mean", "breaks": True}}
"""Extra :class:`~.pooled.PooledTrendModel` set-ups the backtest runs by default."""
FROZEN_SHOCK_ORIGINS = 6
"""Earlier origins whose errors estimate the shared national and regional shocks."""
