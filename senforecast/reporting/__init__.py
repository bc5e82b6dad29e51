"""Publishing a run's outputs: disclosure control of the published tables.

* :mod:`senforecast.reporting.disclosure` - statistical disclosure control of a set of
  linked tables: primary suppression of small counts, secondary suppression chosen by
  optimisation, and an independent audit of any publication by linear programming.
"""
