"""Kernels of the cohort simulation: binomial counts, dense key sums, in-place column compaction."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from senforecast.models.cohort_sim import binomial_counts, compact_columns, sum_by_key, sum_by_key_dense


def test_binomial_counts_mixed_entries_have_binomial_means_and_variances():
    rng = np.random.default_rng(3)
    n = np.tile(np.array([0, 1, 2, 5, 20]), 40_000)
    p = np.tile(np.array([0.3, 0.3, 0.7, 0.1, 0.45]), 40_000)
    x = binomial_counts(rng, n, p)
    for i in range(5):
        xi, ni, pi = x[i::5], n[i], p[i]
        se = np.sqrt(ni * pi * (1 - pi) / xi.size) + 1e-12
        assert abs(xi.mean() - ni * pi) < 4 * se
        if ni > 1:
            assert abs(xi.var() / (ni * pi * (1 - pi)) - 1) < 0.05


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.floats(0, 1)), min_size=1, max_size=50), st.integers(0, 2**32 - 1))
def test_binomial_counts_stay_within_zero_and_n_and_seeds_reproduce(rows, seed):
    n = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    x = binomial_counts(np.random.default_rng(seed), n, p)
    assert ((x >= 0) & (x <= n)).all()
    assert (x[p == 0] == 0).all() and (x[p == 1] == n[p == 1]).all()
    assert (x == binomial_counts(np.random.default_rng(seed), n, p)).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 99), st.integers(0, 5)), max_size=80))
def test_sum_by_key_dense_agrees_with_the_sort(pairs):
    k = np.array([a for a, _ in pairs], dtype=np.int64)
    c = np.array([b for _, b in pairs], dtype=np.int64)
    k1, n1 = sum_by_key_dense(k, c, 100)
    k2, n2 = sum_by_key(k, c)
    assert k1.tolist() == k2.tolist() and n1.tolist() == n2.tolist()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 5), st.integers(1, 40), st.integers(0, 2**32 - 1),
       st.sampled_from([np.int16, np.int32]))
def test_compact_columns_equals_fancy_indexing(d, y, cols, seed, dtype):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(d, y, cols)).astype(dtype)
    used = np.flatnonzero(rng.random(cols) < 0.7)
    expected = a[:, :, used].copy()
    got = compact_columns(a.copy(), used)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert (got == expected).all() and got.flags.c_contiguous


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 9), st.sampled_from([1, 2, 8, 64]), st.integers(0, 2**32 - 1),
       st.floats(0, 0.9))
def test_guided_categorical_draws_exactly_what_the_binary_search_draws(rows, k, g, seed, zero_share):
    from senforecast.models.cohort_sim import categorical_from_cdf, categorical_from_guide, cdf_table, guide_table
    rng = np.random.default_rng(seed)
    probs = rng.random((rows, k)) * (rng.random((rows, k)) >= zero_share)  # zero-probability slots repeat CDF values
    probs[:, rng.integers(0, k, rows)[:1]] += 0.01  # every row has some probability
    flat = cdf_table(probs)
    child_row = np.sort(rng.integers(0, rows, 500))
    a = categorical_from_guide(np.random.default_rng(seed), child_row, flat, guide_table(flat, rows, g), g, k)
    b = categorical_from_cdf(np.random.default_rng(seed), child_row, flat, k)
    assert (a == b).all()
    assert (probs[child_row, a] > 0).all()
