"""The driver's frozen settings: read back from the recorded flat dict exactly as written."""

import dataclasses

import pytest

from hyperfleet.driver_settings import Budget, DriverSettings, Resources


def test_round_trip_through_the_recorded_dict():
    settings = DriverSettings.from_dict({"max_evals": 7, "timeout": 3.5, "drain": False, "max_failures": 2,
                                         "eval_timeout": 1.0, "isolate": True, "prefetch": 0,
                                         "gpus_per_eval": 1, "gpus": ["0", "1"], "search": "ambs"})
    assert settings.budget == Budget(max_evals=7, timeout=3.5, drain=False)
    assert settings.resources.gpus == ("0", "1")
    flat = settings.to_dict()
    assert flat["gpus"] == ["0", "1"] and "search" not in flat
    assert DriverSettings.from_dict(flat) == settings
    assert settings.with_budget(max_evals=9).budget.max_evals == 9 and settings.budget.max_evals == 7


def test_settings_are_frozen_and_checked():
    settings = DriverSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.budget.max_evals = 3
    with pytest.raises(ValueError, match="--gpus needs --gpus-per-eval"):
        Resources(gpus=["0"])
    with pytest.raises(ValueError, match="max_evals must be an integer >= 1, got True"):
        Budget(max_evals=True)
