"""Deep comparison of a model's state, for tests that a method leaves the model as it was."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd


def _same(a, b, path: str, diffs: list[str]) -> None:
    if type(a) is not type(b):
        diffs.append(f"{path}: type {type(a).__name__} -> {type(b).__name__}")
    elif isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            diffs.append(f"{path}: array changed")
    elif isinstance(a, (pd.DataFrame, pd.Series, pd.Index)):
        if not a.equals(b) or (isinstance(a, pd.DataFrame) and not a.dtypes.equals(b.dtypes)):
            diffs.append(f"{path}: {type(a).__name__} changed")
    elif isinstance(a, dict):
        if list(a) != list(b):
            diffs.append(f"{path}: keys {sorted(map(str, a))} -> {sorted(map(str, b))}")
        for k in a:
            if k in b:
                _same(a[k], b[k], f"{path}[{k!r}]", diffs)
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            diffs.append(f"{path}: length {len(a)} -> {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]", diffs)
    elif isinstance(a, float):
        if not (a == b or (np.isnan(a) and np.isnan(b))):
            diffs.append(f"{path}: {a!r} -> {b!r}")
    elif dataclasses.is_dataclass(a) or hasattr(a, "__dict__"):
        _same(vars(a), vars(b), path, diffs)
    elif a != b:
        diffs.append(f"{path}: {a!r} -> {b!r}")


def assert_same_state(before: dict, after: dict) -> None:
    """Assert two snapshots of ``vars(model)`` hold equal values (arrays, frames and nested
    objects compared element by element), naming every attribute that differs."""
    diffs: list[str] = []
    _same(before, after, "model", diffs)
    assert not diffs, "the model changed:\n" + "\n".join(diffs[:20])
