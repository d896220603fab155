"""Unit tests of the pure decision rules (sim.engine.rules) and the counter-based streams (sim.engine.streams)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import intervals
from sim.engine import rules, streams

Z95 = 1.959963984540054


def dominated(candidates, utilities, tol=1e-9):
    """Whether a candidate utility pair (M, 2) beats ``utilities`` (2,) for one principal, not worse for the other."""
    better = candidates >= utilities - tol
    strictly = candidates > utilities + tol
    return bool(np.any(better.all(axis=-1) & strictly.any(axis=-1)))


def two_principals(seed: int, n_issues: int):
    """Random ideals (2, I) and saliences summing to 1 (2, I) for two principals."""
    r = np.random.default_rng(seed)
    return r.uniform(0, 100, (2, n_issues)), r.dirichlet(np.ones(n_issues), 2), r


issues_and_seed = (st.integers(1, 4), st.integers(0, 2**32 - 1))


# ----------------------------------------------------------------- utility
@given(*issues_and_seed)
def test_utility_is_one_at_the_ideal_and_within_unit_interval(n_issues, seed):
    (ideal, _), (sal, _), r = two_principals(seed, n_issues)
    assert rules.utility(ideal, ideal, sal) == pytest.approx(1.0)
    u = rules.utility(r.uniform(0, 100, (200, n_issues)), ideal, sal)
    assert np.all((u >= -1e-12) & (u <= 1 + 1e-12))


def test_utility_extremes_and_weighting():
    sal = np.array([0.7, 0.3])
    assert rules.utility(np.array([100.0, 100.0]), np.zeros(2), sal) == pytest.approx(0.0)
    assert rules.utility(np.array([50.0, 0.0]), np.zeros(2), sal) == pytest.approx(1 - 0.35)
    assert rules.utility(np.array([0.0, 50.0]), np.zeros(2), sal) == pytest.approx(1 - 0.15)


def test_utility_broadcasts_over_runs():
    rng = np.random.default_rng(7)
    ideal = rng.uniform(0, 100, (5, 3))
    sal = np.tile([0.2, 0.3, 0.5], (5, 1))
    package = rng.uniform(0, 100, (5, 3))
    each = [rules.utility(package[r], ideal[r], sal[r]) for r in range(5)]
    np.testing.assert_allclose(rules.utility(package, ideal, sal), each)


# ----------------------------------------------------------------- concessions
def test_concession_share_boulware_concedes_later_than_conceder():
    deadline = np.array(20.0)
    clock = np.arange(1, 20, dtype=float)
    boulware = rules.concession_share(clock, deadline, np.array(0.25))
    linear = rules.concession_share(clock, deadline, np.array(1.0))
    conceder = rules.concession_share(clock, deadline, np.array(3.0))
    assert np.all(boulware < linear) and np.all(linear < conceder)
    np.testing.assert_allclose(linear, clock / 20)
    for e in (0.25, 1.0, 3.0):
        share = rules.concession_share(np.arange(0, 30.0), deadline, np.array(e))
        assert share[0] == 0 and np.all(share[20:] == 1) and np.all(np.diff(share) >= 0)


def test_concession_share_exponent_zero_never_concedes():
    share = rules.concession_share(np.arange(0, 50.0), np.array(10.0), np.array(0.0))
    assert np.all(share == 0)


def test_aspiration_runs_from_full_utility_to_reservation():
    assert rules.aspiration(np.array(0.0), np.array(0.4)) == pytest.approx(1.0)
    assert rules.aspiration(np.array(1.0), np.array(0.4)) == pytest.approx(0.4)
    assert rules.aspiration(np.array(0.5), np.array(0.4)) == pytest.approx(0.7)


def test_stated_position_moves_share_of_the_way_to_the_table():
    ideal = np.array([[0.0, 100.0], [40.0, 40.0]])
    stated = rules.stated_position(ideal, np.array([50.0, 50.0]), np.array([0.5, 0.0]))
    np.testing.assert_allclose(stated, [[25.0, 75.0], [40.0, 40.0]])


# ----------------------------------------------------------------- compromise
def test_weighted_compromise_by_hand():
    positions = np.array([[0.0, 100.0], [100.0, 0.0], [50.0, 50.0]])
    capability = np.array([1.0, 0.5, 0.2])
    salience = np.array([[0.8, 0.2], [0.5, 0.5], [0.5, 0.5]])
    w = capability[:, None] * salience
    expected = (w * positions).sum(0) / w.sum(0)
    np.testing.assert_allclose(rules.weighted_compromise(positions, capability, salience), expected)
    assert expected[0] == pytest.approx((0 * 0.8 + 100 * 0.25 + 50 * 0.1) / (0.8 + 0.25 + 0.1))


def test_project_clips_into_the_box():
    np.testing.assert_allclose(
        rules.project(np.array([10.0, 90.0, 50.0]), np.array([20.0, 0, 0]), np.array([100.0, 60, 100])), [20, 60, 50]
    )


# ----------------------------------------------------------------- frontier
@settings(max_examples=60, deadline=None)
@given(*issues_and_seed)
def test_frontier_vertices_are_pareto_efficient_and_end_at_the_ideals(n_issues, seed):
    (ideal1, ideal2), (sal1, sal2), r = two_principals(seed, n_issues)
    packages, utilities = rules.frontier(ideal1, ideal2, sal1, sal2)
    np.testing.assert_allclose(packages[0], ideal1)
    np.testing.assert_allclose(packages[-1], ideal2)
    np.testing.assert_allclose(utilities[0, 0], 1.0)
    np.testing.assert_allclose(utilities[-1, 1], 1.0)
    assert np.all(np.diff(utilities[:, 0]) <= 1e-12) and np.all(np.diff(utilities[:, 1]) >= -1e-12)
    np.testing.assert_allclose(utilities[:, 0], rules.utility(packages, ideal1, sal1))
    np.testing.assert_allclose(utilities[:, 1], rules.utility(packages, ideal2, sal2))
    sample = r.uniform(0, 100, (4000, n_issues))
    sample_u = np.stack([rules.utility(sample, ideal1, sal1), rules.utility(sample, ideal2, sal2)], axis=-1)
    lam = r.uniform(size=(len(packages) - 1, 1))
    midpoints = utilities[:-1] + lam * (utilities[1:] - utilities[:-1])
    for u in np.concatenate([utilities, midpoints]):
        assert not dominated(sample_u, u)


def test_frontier_inside_a_box_measures_utility_from_the_true_ideals():
    ideal1, ideal2 = np.array([10.0, 80.0]), np.array([90.0, 20.0])
    sal1, sal2 = np.array([0.6, 0.4]), np.array([0.3, 0.7])
    low, high = np.array([30.0, 0.0]), np.array([100.0, 50.0])
    packages, utilities = rules.frontier(ideal1, ideal2, sal1, sal2, low, high)
    np.testing.assert_allclose(packages[0], [30.0, 50.0])
    np.testing.assert_allclose(packages[-1], [90.0, 20.0])
    np.testing.assert_allclose(utilities[:, 0], rules.utility(packages, ideal1, sal1))
    np.testing.assert_allclose(utilities[:, 1], rules.utility(packages, ideal2, sal2))
    assert utilities[0, 0] == pytest.approx(1 - (0.6 * 20 + 0.4 * 30) / 100)


@settings(max_examples=60, deadline=None)
@given(*issues_and_seed, st.sampled_from([0, 1]), st.floats(0, 1))
def test_frontier_at_inverts_the_frontier(n_issues, seed, who, where):
    (ideal1, ideal2), (sal1, sal2), _ = two_principals(seed, n_issues)
    packages, utilities = rules.frontier(ideal1, ideal2, sal1, sal2)
    lo, hi = utilities[:, who].min(), utilities[:, who].max()
    target = lo + where * (hi - lo)
    package, u = rules.frontier_at(packages, utilities, who, target)
    assert u[who] == pytest.approx(target, abs=1e-9)
    np.testing.assert_allclose(
        u, [rules.utility(package, ideal1, sal1), rules.utility(package, ideal2, sal2)], atol=1e-9
    )
    _, above = rules.frontier_at(packages, utilities, who, hi + 0.5)
    _, below = rules.frontier_at(packages, utilities, who, lo - 0.5)
    assert above[who] == pytest.approx(hi) and below[who] == pytest.approx(lo)


def test_frontier_at_broadcasts_over_runs():
    rng = np.random.default_rng(8)
    ideal1, ideal2 = rng.uniform(0, 100, (2, 6, 3))
    sal1, sal2 = rng.dirichlet(np.ones(3), (2, 6))
    packages, utilities = rules.frontier(ideal1, ideal2, sal1, sal2)
    target = rng.uniform(0.5, 1.0, 6)
    pkg, u = rules.frontier_at(packages, utilities, 0, target)
    for r in range(6):
        one_pkg, one_u = rules.frontier_at(packages[r], utilities[r], 0, target[r])
        np.testing.assert_allclose(pkg[r], one_pkg)
        np.testing.assert_allclose(u[r], one_u)


# ----------------------------------------------------------------- Zeuthen risk
def test_zeuthen_risk_is_the_share_of_surplus_lost():
    assert rules.zeuthen_risk(np.array(0.9), np.array(0.6), np.array(0.3)) == pytest.approx(0.5)
    assert rules.zeuthen_risk(np.array(0.3), np.array(0.2), np.array(0.3)) == 0.0


# ----------------------------------------------------------------- Wilson
def test_wilson_interval_known_value():
    low, high = intervals.wilson_interval(50, 100)
    z2 = Z95**2
    half = Z95 * np.sqrt(0.25 / 100 + z2 / (4 * 100**2)) / (1 + z2 / 100)
    assert (low, high) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-12)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=5e-5)


def test_wilson_interval_closed_forms_at_the_edges_and_broadcast():
    n = np.array([10, 40, 1000])
    low0, high0 = intervals.wilson_interval(np.zeros(3), n)
    assert np.all(low0 == 0)
    np.testing.assert_allclose(high0, Z95**2 / (n + Z95**2))
    low1, high1 = intervals.wilson_interval(n, n)
    np.testing.assert_allclose(low1, n / (n + Z95**2))
    assert np.all(high1 == 1)


@pytest.mark.parametrize("n", [1, 7, 100, 10_000])
def test_wilson_interval_always_contains_the_estimate(n):
    k = np.arange(n + 1)
    low, high = intervals.wilson_interval(k, n)
    assert np.all((low >= 0) & (low <= k / n) & (k / n <= high) & (high <= 1))


# ----------------------------------------------------------------- streams
def test_uniform_is_in_the_open_unit_interval_and_reproducible():
    runs = np.arange(200_000)
    u = streams.uniform(42, runs, 3, 7)
    assert u.min() > 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / runs.size)
    np.testing.assert_array_equal(u, streams.uniform(42, runs, 3, 7))
    assert not np.array_equal(u, streams.uniform(43, runs, 3, 7))
    assert not np.array_equal(u, streams.uniform(42, runs, 3, 8))
    assert np.unique(u).size > 0.999 * runs.size


def test_a_stream_draws_what_uniform_draws_with_its_keys_first_in_every_run_or_in_rows():
    runs = np.arange(1_000, 6_000)
    stream = streams.Stream(42, runs, 3, 7)
    np.testing.assert_array_equal(stream.uniform(11), streams.uniform(42, runs, 3, 7, 11))
    np.testing.assert_array_equal(stream.uniform(), streams.uniform(42, runs, 3, 7))
    rows = np.array([4_999, 0, 17])
    np.testing.assert_array_equal(stream.uniform(11, 5, rows=rows), streams.uniform(42, runs[rows], 3, 7, 11, 5))
    assert not np.array_equal(stream.uniform(11), stream.uniform(12))


@pytest.mark.parametrize("n_issues", [1, 2, 5, 7, 8, 12])
def test_sums_and_tests_over_the_issues_are_numpys_to_the_bit(n_issues):
    r = np.random.default_rng(n_issues)
    values = r.uniform(0, 1, (3_000, 4, n_issues)) * 10.0 ** r.integers(-3, 4, (3_000, 4, n_issues))
    summed = rules.issue_sum(values)
    assert summed.shape == (3_000, 4)
    np.testing.assert_array_equal(summed.view(np.int64), np.sum(values, axis=-1).view(np.int64))
    mask = values > 0.9 * values.max()
    np.testing.assert_array_equal(rules.any_issue(mask), np.any(mask, axis=-1))
    assert rules.any_issue(mask).any() and not rules.any_issue(mask).all()


def test_uniform_does_not_depend_on_the_block_it_is_drawn_with():
    whole = streams.uniform(2025, np.arange(10), streams.key("event"), 4)
    assert streams.uniform(2025, np.array([5]), streams.key("event"), 4)[0] == whole[5]
    shuffled = np.array([9, 3, 5])
    np.testing.assert_array_equal(streams.uniform(2025, shuffled, streams.key("event"), 4), whole[shuffled])


def test_keys_are_stable_and_distinct():
    """A key is the CRC-32 of the stream's name: pinned, because a changed key would change every run's draws."""
    assert streams.key("remains_recovered") == 2293176839
    assert streams.key("parameters") == 110315774
    assert streams.key("a") != streams.key("b")


def test_normal_is_standard():
    z = streams.normal(1, np.arange(200_000), 11)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02


@pytest.mark.parametrize("rate", [0.05, 0.7, 3.0])
def test_poisson_mean_and_variance_match_the_rate(rate):
    n = 200_000
    counts = streams.poisson(rate, streams.uniform(9, np.arange(n), 5))
    se = np.sqrt(rate / n)
    assert abs(counts.mean() - rate) < 5 * se
    assert counts.var() == pytest.approx(rate, rel=0.05)
    assert counts.min() >= 0


def test_poisson_with_zero_rate_never_fires():
    assert not streams.poisson(np.zeros(1000), streams.uniform(1, np.arange(1000))).any()
