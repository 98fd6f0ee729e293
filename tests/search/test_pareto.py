"""Non-dominated filtering, sorting and hypervolume on hand-made points."""


import numpy as np
import pytest

from hyperfleet.pareto import hypervolume, non_dominated_sort, pareto_mask


def brute_mask(Y):
    """Reference: maximized; i is dominated when some j is >= everywhere and > somewhere."""
    Y = np.asarray(Y, dtype=float)
    out = []
    for i in range(len(Y)):
        dom = any((Y[j] >= Y[i]).all() and (Y[j] > Y[i]).any() for j in range(len(Y)) if j != i)
        out.append(not dom)
    return np.array(out)


def test_two_objectives_hand_made_front():
    Y = [[1, 5], [2, 4], [3, 3], [2, 2], [0, 6], [3, 1]]
    assert pareto_mask(Y).tolist() == [True, True, True, False, True, False]


def test_duplicates_and_ties_of_a_front_point_all_stay():
    Y = [[1, 2], [1, 2], [2, 1], [1, 1], [2, 1], [0, 2]]
    # duplicates of front points are all on the front; [0, 2] ties [1, 2] on one objective
    # and is worse on the other: dominated
    assert pareto_mask(Y).tolist() == [True, True, True, False, True, False]
    Y3 = [[1, 2, 3], [1, 2, 3], [3, 2, 1], [1, 2, 2]]
    assert pareto_mask(Y3).tolist() == [True, True, True, False]


def test_one_objective_constant_reduces_to_the_other():
    Y = [[5, 1.0], [5, 3.0], [5, 3.0], [5, 2.0]]
    assert pareto_mask(Y).tolist() == [False, True, True, False]


def test_directions_minimize_turns_the_front_around():
    Y = [[1, 1], [2, 2], [0, 3]]
    assert pareto_mask(Y).tolist() == [False, True, True]
    assert pareto_mask(Y, ["minimize", "minimize"]).tolist() == [True, False, True]
    assert pareto_mask(Y, ["maximize", "minimize"]).tolist() == [True, True, False]


def test_nan_rows_are_never_on_the_front():
    Y = [[np.nan, 9], [1, 1], [0, 0]]
    assert pareto_mask(Y).tolist() == [False, True, False]
    assert non_dominated_sort(Y).tolist() == [2, 0, 1]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_mask_matches_brute_force_on_random_points_with_ties(k, seed):
    rng = np.random.default_rng(10 * k + seed)
    Y = rng.integers(0, 6, size=(300, k)).astype(float)  # many ties and duplicates
    assert (pareto_mask(Y) == brute_mask(Y)).all()
    assert (pareto_mask(Y, ["minimize"] * k) == brute_mask(-Y)).all()


@pytest.mark.parametrize("k", [3, 4])
def test_mask_matches_brute_force_on_a_large_front(k):
    # points near a sphere: most of them non-dominated (the hard case for a cull), some repeated
    rng = np.random.default_rng(k)
    X = np.abs(rng.normal(size=(1500, k)))
    X = X / np.linalg.norm(X, axis=1, keepdims=True) * (1 - 0.02 * rng.random((1500, 1)))
    Y = np.concatenate([X, X[:50]])
    ge = (Y[None, :, :] >= Y[:, None, :]).all(axis=2)
    gt = (Y[None, :, :] > Y[:, None, :]).any(axis=2)
    expected = ~(ge & gt).any(axis=1)
    assert expected.sum() > 300
    assert (pareto_mask(Y) == expected).all()


def test_non_dominated_sort_levels():
    Y = [[3, 3], [2, 2], [1, 1], [3, 0], [0, 3]]
    assert non_dominated_sort(Y).tolist() == [0, 1, 2, 1, 1]


def test_hypervolume_exact_values():
    assert hypervolume([[1, 1]], [0, 0]) == pytest.approx(1.0)
    # two boxes 2x1 and 1x2 overlapping in 1x1
    assert hypervolume([[2, 1], [1, 2]], [0, 0]) == pytest.approx(3.0)
    assert hypervolume([[2, 1], [1, 2], [0.5, 0.5]], [0, 0]) == pytest.approx(3.0)
    assert hypervolume([[1, 1, 1]], [0, 0, 0]) == pytest.approx(1.0)
    assert hypervolume([[2, 1, 1], [1, 2, 1], [1, 1, 2]], [0, 0, 0]) == pytest.approx(4.0)
    assert hypervolume([[1, 1, 1, 1], [2, 0.5, 1, 1]], [0, 0, 0, 0]) == pytest.approx(1.5)
    # minimized, with points beyond the reference left out
    assert hypervolume([[0, 0], [5, -1]], [1, 1], ["minimize", "minimize"]) == pytest.approx(1.0)


def test_hypervolume_matches_monte_carlo_in_3d():
    rng = np.random.default_rng(0)
    Y = rng.random((40, 3))
    exact = hypervolume(Y, [0, 0, 0])
    S = rng.random((200_000, 3))
    dominated = (S[:, None, :] <= Y[None, :, :]).all(axis=2).any(axis=1)
    assert exact == pytest.approx(dominated.mean(), abs=0.01)


def test_front_of_100000_points():
    # the sizes of benchmarks/pareto_speed.py (which times them); here only the answer is checked
    rng = np.random.default_rng(1)
    for k in (2, 3, 4):
        Y = rng.random((100_000, k))
        mask = pareto_mask(Y)
        assert 0 < mask.sum() < 2000
        on, off = Y[mask], Y[~mask][:2000]
        # no front point dominates another, and each sampled other point is dominated by one of them
        ge = (on[None, :, :] >= on[:, None, :]).all(axis=2) & (on[None, :, :] > on[:, None, :]).any(axis=2)
        assert not ge.any()
        dom = (on[None, :, :] >= off[:, None, :]).all(axis=2) & (on[None, :, :] > off[:, None, :]).any(axis=2)
        assert dom.any(axis=1).all()


@pytest.mark.parametrize("small, cells", [(2, 0), (16, 64), (512, 1 << 22)])
@pytest.mark.parametrize("kind", ["ties", "sphere"])
def test_four_objective_divide_and_conquer_matches_brute_force(kind, small, cells):
    # small thresholds force the staircase sweep that answers each merge on big fronts
    from hyperfleet import pareto

    rng = np.random.default_rng(7)
    if kind == "ties":
        Y = rng.integers(0, 5, size=(900, 4)).astype(float)
    else:
        X = np.abs(rng.normal(size=(900, 4)))
        Y = X / np.linalg.norm(X, axis=1, keepdims=True) * (1 - 0.02 * rng.random((900, 1)))
        Y = np.concatenate([Y, Y[:40]])
    C = -Y
    order = np.lexsort(C.T[::-1])
    got = np.zeros(len(Y), dtype=bool)
    got[order[pareto._front_split4(C[order], small=small, cells=cells)]] = True
    ge = (Y[None, :, :] >= Y[:, None, :]).all(axis=2)
    gt = (Y[None, :, :] > Y[:, None, :]).any(axis=2)
    expected = ~(ge & gt).any(axis=1)
    assert 0 < expected.sum() < len(Y)
    assert (got == expected).all()
