"""Every worked notebook in notebooks/ executes without errors, and is stored without outputs.

Notebook 05 (England) is executed by tests/test_england_notebook.py, so it is only checked
for stored outputs here and not run twice.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

import nbformat
import pytest
from nbclient import NotebookClient

from senforecast.datasets.demo import demo_dir

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
RUN_ELSEWHERE = {"05_england_backtest.ipynb"}  # tests/test_england_notebook.py
TIMEOUT = 180  # seconds per cell; each notebook takes well under a minute on a quiet machine

DEMO_IDS = set(pd.read_csv(demo_dir() / "plans.csv", usecols=["pupil_id"])["pupil_id"].astype(str))
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
TO_RUN = [p for p in ALL if p.name not in RUN_ELSEWHERE]


def test_there_are_the_four_worked_notebooks():
    names = {p.name for p in TO_RUN}
    assert {"01_quickstart.ipynb", "02_your_own_data.ipynb", "03_scenarios.ipynb",
            "04_backtesting.ipynb"} <= names


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook with no code"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), \
        f"{path.name} has stored outputs: clear them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", TO_RUN, ids=lambda p: p.stem)
def test_notebook_executes(path):
    nb = nbformat.read(path, as_version=4)
    # "python3" runs the kernel on sys.executable (jupyter_client swaps in the running
    # interpreter for a spec whose argv starts with "python"), i.e. the venv in CI too
    client = NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    # charts were drawn as images, and no pupil id of the demo reached an output
    if any(re.search(r"\.plot\b|chart\(", c.source) for c in nb.cells if c.cell_type == "code"):
        assert any("image/png" in o.get("data", {}) for o in outputs)
    text = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                   + str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert not DEMO_IDS & set(re.findall(r"[A-Za-z0-9]{6,}", text))
