"""The cohort simulation's fast draw helpers give the distributions they stand in for."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from senforecast.models.cohort_sim import beta_where, binomial_counts, odds_year_effect, sum_by_key


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(st.integers(0, 2**40), min_size=0, max_size=200),
       big=st.booleans(), seed=st.integers(0, 1000))
def test_sum_by_key_packed_sort_agrees_with_a_plain_group_sum(keys, big, seed):
    rng = np.random.default_rng(seed)
    k = np.asarray(keys, dtype=np.int64)
    # counts past 2**20 take the argsort path; both must give the same sums
    c = rng.integers(0, 2**22 if big else 5, size=k.size)
    got_k, got_n = sum_by_key(k, c)
    want = {}
    for key, n in zip(k.tolist(), c.tolist()):
        want[key] = want.get(key, 0) + n
    want = {key: n for key, n in want.items() if n > 0}
    assert got_k.tolist() == sorted(want)
    assert got_n.tolist() == [want[key] for key in sorted(want)]


def test_binomial_counts_follow_the_binomial_for_one_and_many_children():
    rng = np.random.default_rng(4)
    for n_children, p in ((1, 0.07), (4, 0.3), (0, 0.5)):
        n = np.full(40_000, n_children)
        x = binomial_counts(rng, n, np.full(n.size, p))
        assert x.min() >= 0 and x.max() <= n_children
        if n_children == 0:
            assert not x.any()
            continue
        observed = np.bincount(x, minlength=n_children + 1)
        expected = stats.binom.pmf(np.arange(n_children + 1), n_children, p) * n.size
        assert stats.chisquare(observed, expected).pvalue > 0.001


def test_one_child_entries_taking_the_beta_mean_leave_the_outcome_distribution_unchanged():
    # beta-binomial with one trial: Bernoulli(a / (a + b)), whether or not the Beta is drawn
    rng = np.random.default_rng(5)
    a, b = np.array([2.0, 0.5]), np.array([6.0, 9.5])
    row = np.repeat([0, 1], 50_000)
    ones = np.ones(row.size, dtype=np.int64)
    drawn = binomial_counts(rng, ones, beta_where(rng, a, b, row, np.ones(row.size, bool)))
    mean = binomial_counts(rng, ones, beta_where(rng, a, b, row, np.zeros(row.size, bool)))
    for r in (0, 1):
        sel = row == r
        table = [[drawn[sel].sum(), (1 - drawn[sel]).sum()], [mean[sel].sum(), (1 - mean[sel]).sum()]]
        assert stats.chi2_contingency(table).pvalue > 0.001
        assert abs(mean[sel].mean() - a[r] / (a[r] + b[r])) < 0.01


def test_odds_year_effect_keeps_rates_in_range_and_spreads_them_as_asked():
    rng = np.random.default_rng(6)
    p = np.full(20_000, 0.1)
    q = odds_year_effect(rng, p, 0.2, np.arange(p.size), np.zeros(p.size, int), (p.size, 1))
    assert ((q >= 0) & (q <= 1)).all()
    odds = q / (1 - q) / (0.1 / 0.9)  # the factor on the odds: mean 1, variance 0.2
    assert abs(odds.mean() - 1) < 0.02 and abs(odds.var() - 0.2) < 0.02
    assert odds_year_effect(rng, p, 0.0, np.zeros(p.size, int), np.zeros(p.size, int), (1, 1)) is p
