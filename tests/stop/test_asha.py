"""ASHA and Hyperband on hand-made curves: exact rungs and decisions."""

import pytest

from hyperfleet.stop import ASHAStopper, HyperbandStopper, make_stopper
from hyperfleet.stop.asha import default_min_step, rung_steps


def test_rung_steps():
    assert rung_steps(1, 3, 27) == [1, 3, 9]
    assert rung_steps(1, 3, 28) == [1, 3, 9, 27]
    assert rung_steps(2, 2, 20) == [2, 4, 8, 16]
    assert rung_steps(4, 3, 27) == [4, 12]
    assert rung_steps(5, 3, 5) == []
    assert rung_steps(1, 1.5, 6) == [1, 2, 3, 5]  # rounded, duplicates dropped
    assert rung_steps(1, 3, None)[:4] == [1, 3, 9, 27]


def test_asha_decisions_at_each_rung():
    s = ASHAStopper(min_step=1, max_step=9, reduction_factor=3)
    assert s.rungs.steps == [1, 3]
    # rung 1: with fewer than 3 values only the best goes on, then the top floor(n / 3)
    assert s.report("a", 1, 0.5) is True      # [0.5]: alone
    assert s.report("b", 1, 0.4) is False     # [0.4, 0.5]: not the best
    assert s.report("c", 1, 0.9) is True      # best of 3
    assert s.report("d", 1, 0.6) is False     # 4 values, top 1 is 0.9
    assert s.report("e", 1, 0.95) is True     # new best
    assert s.report("f", 1, 0.7) is False     # 6 values, top 2: 0.95, 0.9
    assert s.report("g", 1, 0.92) is True     # 7 values, top 2: 0.95, 0.92 (a tie goes on)
    assert s.rungs.values[0] == [0.4, 0.5, 0.6, 0.7, 0.9, 0.92, 0.95]
    # between rungs nobody is judged, however bad
    assert s.report("a", 2, 0.01) is True
    # rung 3
    assert s.report("a", 3, 0.6) is True      # alone at rung 3
    assert s.report("c", 2, 0.7) is True
    assert s.report("c", 3, 0.8) is True      # best of 2
    assert s.report("e", 3, 0.7) is False     # [0.6, 0.7, 0.8]: top 1 is 0.8
    assert s.rungs.values[1] == [0.6, 0.7, 0.8]
    # no rung at or beyond max_step: a full training is never "stopped"
    for t in range(4, 10):
        assert s.report("c", t, 0.01) is True
    # a stop is final; a stopped evaluation's later values enter no rung
    assert s.report("b", 3, 0.99) is False
    assert s.rungs.values[1] == [0.6, 0.7, 0.8]


def test_asha_sparse_reports_are_judged_at_every_rung_they_pass():
    s = ASHAStopper(min_step=1, max_step=27, reduction_factor=3)
    for eid, v in (("a", 0.8), ("b", 0.7), ("c", 0.6)):
        s.report(eid, 3, v)                   # each records the same value at rungs 1 and 3
    assert s.rungs.values[0] == [0.6, 0.7, 0.8] and s.rungs.values[1] == [0.8]  # b, c: rung 1
    assert s.report("h", 1, 0.99) is True
    assert s.report("h", 10, 0.1) is False    # passes rungs 3 and 9: stopped at rung 3
    assert s.rungs.values[1] == [0.1, 0.8] and s.rungs.values[2] == []


def test_asha_min_step_and_protect():
    s = ASHAStopper(min_step=4, max_step=20, reduction_factor=2)
    assert s.rungs.steps == [4, 8, 16]
    s.protect("p")
    for t in range(1, 4):
        assert s.report("p", t, 0.0) and s.report("q", t, 0.0)
    assert s.report("good", 4, 0.9) is True
    assert s.report("p", 4, 0.1) is True      # protected: goes on ...
    assert s.rungs.values[0] == [0.1, 0.9]    # ... and its value counts at the rung
    assert s.report("q", 4, 0.2) is False


def test_default_grace_period_is_tied_to_max_step():
    assert default_min_step(27, 3) == 3 and default_min_step(100, 3) == 11
    assert default_min_step(81, 3) == 9 and default_min_step(20, 4) == 1
    assert default_min_step(None, 3) == 1 and default_min_step(2, 3) == 1
    s = make_stopper("asha", max_step=27)
    assert s.settings.min_step == 3 and s.rungs.steps == [3, 9]
    # a slow starter far behind at epochs 1 and 2 is not judged before the first rung ...
    assert s.report("fast", 1, 0.6) and s.report("fast", 2, 0.7) and s.report("fast", 3, 0.72)
    assert s.report("slow", 1, 0.1) is True
    assert s.report("slow", 2, 0.3) is True
    # ... where it is compared with what others had at step 3
    assert s.report("slow", 3, 0.75) is True
    assert s.rungs.values[0] == [0.72, 0.75]
    assert make_stopper("asha", max_step=27, reduction_factor=2).rungs.steps == [7, 14]
    assert make_stopper("asha").rungs.steps[:3] == [1, 3, 9]  # no max_step: from step 1
    assert make_stopper("asha", max_step=27, min_step=1).rungs.steps == [1, 3, 9]
    hb = make_stopper("hyperband", max_step=27)
    assert hb.settings.min_step == 3
    assert [b.steps for b in hb.brackets] == [[3, 9], [9], []]


def test_asha_settings_errors():
    with pytest.raises(ValueError, match="reduction_factor.*> 1"):
        make_stopper("asha", reduction_factor=1)
    with pytest.raises(ValueError, match="max_step.*>= min_step"):
        make_stopper("asha", min_step=5, max_step=3)
    with pytest.raises(ValueError, match="unknown setting 'eta'.*max_step, min_step, reduction_factor"):
        make_stopper("asha", eta=3)
    with pytest.raises(ValueError, match="unknown stopper 'ashaa'; choose one of asha, hyperband"):
        make_stopper("ashaa")


def test_hyperband_brackets():
    s = HyperbandStopper(seed=0, max_step=27, min_step=1, reduction_factor=3)
    assert [b.steps for b in s.brackets] == [[1, 3, 9], [3, 9], [9], []]
    assert list(s.weights * 49) == pytest.approx([27, 12, 6, 4])
    for i in range(490):
        s.report(f"e{i}", 1, 0.5)
    counts = [sum(s.bracket_of(f"e{i}") == b for i in range(490)) for b in range(4)]
    assert counts == pytest.approx([270, 120, 60, 40], abs=35)
    same = HyperbandStopper(seed=0, max_step=27, min_step=1)
    other = HyperbandStopper(seed=1, max_step=27, min_step=1)
    for i in range(40):
        same.report(f"e{i}", 1, 0.5)
        other.report(f"e{i}", 1, 0.5)
    assert [same.bracket_of(f"e{i}") for i in range(40)] == [s.bracket_of(f"e{i}") for i in range(40)]
    assert [other.bracket_of(f"e{i}") for i in range(40)] != [s.bracket_of(f"e{i}") for i in range(40)]


def test_hyperband_evaluations_compete_within_their_bracket_only():
    s = HyperbandStopper(seed=0, max_step=27, min_step=1, n_brackets=2)
    assert [b.steps for b in s.brackets] == [[1, 3, 9], [3, 9]]
    ids = {0: [], 1: []}
    i = 0
    while min(len(v) for v in ids.values()) < 2:
        s.report(f"e{i}", 1, 0.9 if i == 0 else 0.1)
        ids[s.bracket_of(f"e{i}")].append(f"e{i}")
        i += 1
    # in bracket 1 nothing is judged at step 1, whatever bracket 0 recorded
    assert all(s.curves[e].stopped is False for e in ids[1])
    assert s.brackets[1].values[0] == []
