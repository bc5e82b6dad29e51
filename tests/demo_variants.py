"""Variants of the demo authority shared by the disclosure tests."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from senforecast.pipeline.config import Config, demo_config


def small_authority(tmp: Path, frac: float = 0.1, seed: int = 0) -> Config:
    """The demo config with a random ``frac`` of its children (plans.csv written to ``tmp``):
    an authority with many small counts."""
    cfg = demo_config()
    plans = pd.read_csv(cfg.inputs["plans"])
    ids = plans["pupil_id"].drop_duplicates().sample(frac=frac, random_state=seed)
    plans[plans["pupil_id"].isin(ids)].to_csv(tmp / "plans.csv", index=False)
    return cfg.replace(inputs={**cfg.inputs, "plans": tmp / "plans.csv"}, name="Small authority")
