import pytest

from hyperfleet import HpProblem, RandomSearch
from hyperfleet.search import make_search


def test_starting_points_come_first_in_order_and_waiting_is_an_option(tutorial_problem):
    tutorial_problem.add_starting_point(log2_batch_size=5, nunits_1=10, nunits_2=10, dropout_1=0.0,
                                        dropout_2=0.0, optimizer_type="Adam")
    search = make_search("random", tutorial_problem, seed=0, wait_for_starting_points="true")
    first = search.ask(1)
    second = search.ask(3)
    assert first == [tutorial_problem.starting_points[0]]
    assert second == [tutorial_problem.starting_points[1]]   # nothing sampled before they are told
    assert search.ask(2) == []
    search.tell([(first[0], 0.5)])
    assert search.ask(2) == []
    search.tell([(second[0], None)])
    assert len(search.ask(2)) == 2
    assert len(search.pending) == 2 and len(search.history) == 2


def test_free_workers_are_filled_at_once_by_default(tutorial_problem):
    points = tutorial_problem.starting_points  # (the fixture's problem is shared: one or more)
    search = RandomSearch(tutorial_problem, seed=0)
    configs = search.ask(len(points) + 2)
    assert configs[:len(points)] == points and len(configs) == len(points) + 2
    assert len(search.ask(2)) == 2  # nothing waits for the starting points to be told


def test_same_seed_same_sequence(tutorial_problem):
    def sequence(seed):
        search = RandomSearch(tutorial_problem, seed=seed)
        out = []
        for _ in range(10):
            [config] = search.ask(1)
            search.tell([(config, 0.5)])
            out.append(config)
        return out

    assert sequence(7) == sequence(7)
    assert sequence(7) != sequence(8)


def test_no_duplicates_while_the_space_has_room():
    p = HpProblem()
    p.add_dim("a", (0, 3))
    p.add_dim("b", ["x", "y", "z"])
    search = RandomSearch(p, seed=1)
    configs = search.ask(6)
    search.tell([(c, 1.0) for c in configs[:3]])
    configs += search.ask(6)
    assert len({p.key(c) for c in configs}) == 12


def test_tell_cleans_objectives_and_pending(x_problem):
    search = RandomSearch(x_problem, seed=0)
    configs = search.ask(4)
    search.tell([(configs[0], 1), (configs[1], None), (configs[2], float("nan")), (configs[3], "bad")])
    assert [y for _, y in search.history] == [1.0, None, None, None]
    assert search.pending == {}


def test_bad_arguments():
    with pytest.raises(ValueError, match="no dimensions"):
        RandomSearch(HpProblem())
    with pytest.raises(TypeError, match="HpProblem"):
        RandomSearch({"x": (0, 1)})
    p = HpProblem()
    p.add_dim("x", (0, 1))
    with pytest.raises(ValueError, match="unknown search 'grid'"):
        make_search("grid", p)
    with pytest.raises(ValueError, match="n must be >= 0"):
        RandomSearch(p).ask(-1)
