"""Every registered stopper passes the shipped stopper kit."""

import pytest

from hyperfleet.stop import STOPPERS, make_stopper
from hyperfleet.testing import stopper_kit

#: the settings each stopper runs the kit with (full training: stopper_kit.MAX_STEP steps)
KIT_SETTINGS = {
    "asha": {"max_step": stopper_kit.MAX_STEP},
    "hyperband": {"max_step": stopper_kit.MAX_STEP},
    "median": {"max_step": stopper_kit.MAX_STEP},
    "patience": {"patience": 3, "min_delta": 0.005},
    "fixed": {"step": 10},
    "lcmodel": {"max_step": stopper_kit.MAX_STEP},
    "moasha": {"max_step": stopper_kit.MAX_STEP},
}


def test_every_stopper_has_kit_settings():
    assert set(KIT_SETTINGS) == set(STOPPERS)


@pytest.mark.parametrize("check", stopper_kit.CHECKS, ids=lambda c: c.__name__[6:])
@pytest.mark.parametrize("name", sorted(STOPPERS))
def test_stopper_kit(name, check):
    check(lambda seed: make_stopper(name, seed=seed, **KIT_SETTINGS[name]))
