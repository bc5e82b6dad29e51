"""Forecasting models. Every model: ``Model(...).fit(data)`` then ``.project(...)`` -> Projection."""
