"""Shared test settings.

Hypothesis draws its examples from a seed derived from each test's name, so a run is
repeatable and CI cannot fail on an example nobody can reproduce. To hunt for new failures,
run with ``HYPOTHESIS_PROFILE=explore`` (fresh random examples each run; 1,000 where a
test does not set its own number).
"""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
