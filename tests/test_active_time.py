"""The active-time clock: elapsed seconds leave out the time a search was stopped."""

import pytest

from hyperfleet.active_time import INTERVALS_KEY, ActiveClock, closed, opened


def test_the_clock_skips_gaps_and_counts_overlaps_once():
    clock = ActiveClock([[100.0, 110.0], [200.0, None], [105.0, 108.0]])
    assert clock(100.0) == 0.0 and clock(110.0) == pytest.approx(10.0)
    assert clock(150.0) == pytest.approx(10.0)  # in the gap: where the gap began
    assert clock(205.0) == pytest.approx(15.0)  # the open interval runs on


def test_a_search_without_intervals_counts_from_its_start():
    assert ActiveClock.of({}, origin=50.0)(80.0) == pytest.approx(30.0)


def test_an_interval_left_open_by_a_dead_driver_ends_at_its_last_evaluation():
    settings = {"max_evals": 5, INTERVALS_KEY: [[100.0, None]]}
    settings = opened(settings, 500.0, [101.0, 130.0, None, 450.0, 600.0], first_start=100.0)
    assert settings[INTERVALS_KEY] == [[100.0, 450.0], [500.0, None]] and settings["max_evals"] == 5
    settings = closed(settings, 500.0, 520.0)
    assert settings[INTERVALS_KEY][-1] == [500.0, 520.0]
    assert ActiveClock.of(settings)(520.0) == pytest.approx(350.0 + 20.0)


def test_a_search_from_before_intervals_gets_one_from_its_start():
    settings = opened({}, 500.0, [110.0, 160.0], first_start=100.0)
    assert settings[INTERVALS_KEY] == [[100.0, 160.0], [500.0, None]]
