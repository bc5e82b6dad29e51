"""Bundled datasets: the synthetic demo authority, the witan.send demo, synthetic authorities."""
from __future__ import annotations

from ..io.witan import load_witan_demo
from .demo import DEMO_NAME, DEMO_TABLES, demo_dir, load_demo, load_demo_parameters
from .synthetic import synthetic_authority, synthetic_national

__all__ = ["DEMO_NAME", "DEMO_TABLES", "demo_dir", "load_demo", "load_demo_parameters", "load_witan_demo",
           "synthetic_authority", "synthetic_national"]
