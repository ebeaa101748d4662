import numpy as np
import pytest

from gan_lessons import setup
from gan_lessons.setup import PROFILE_ENV, Profile, get_profile, runtime_report, seed_everything


def test_explicit_profile_wins_and_is_normalized(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "gpu")
    assert get_profile(" Smoke ").name == "smoke"


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "cpu")
    profile = get_profile()
    assert profile.name == "cpu" and PROFILE_ENV in profile.reason


@pytest.mark.parametrize("gpus, expected", [([], "cpu"), (["/physical_device:GPU:0"], "gpu")])
def test_default_profile_follows_hardware(monkeypatch, gpus, expected):
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    monkeypatch.setattr(setup, "gpu_names", lambda: gpus)
    profile = get_profile()
    assert profile.name == expected and "unset" in profile.reason


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "fast")
    with pytest.raises(ValueError, match="'fast'.*smoke, cpu, gpu"):
        get_profile()
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        Profile("laptop", "typo")


def test_pick_returns_the_active_budget():
    assert [Profile(name, "").pick(smoke=1, cpu=2, gpu=3) for name in ("smoke", "cpu", "gpu")] == [
        1,
        2,
        3,
    ]


def test_seed_everything_makes_draws_repeatable():
    import tensorflow as tf

    seed_everything(5)
    first = (np.random.rand(3), tf.random.normal((3,)).numpy())
    seed_everything(5)
    second = (np.random.rand(3), tf.random.normal((3,)).numpy())
    seed_everything(6)
    third = tf.random.normal((3,)).numpy()
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert not np.array_equal(first[1], third)


def test_runtime_report_names_versions():
    report = runtime_report()
    assert (
        report["keras"].startswith("3.")
        and report["cpu_count"] >= 1
        and isinstance(report["gpus"], list)
    )
