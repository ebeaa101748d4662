"""A lesson costs the same whatever its data source holds (1,437 stand-in digits, 8,000 or 60,000
MNIST images), and every training budget obeys the dry run's step cap (GAN_LESSONS_MAX_STEPS)."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from gan_lessons.data import make_image_dataset
from gan_lessons.setup import Profile
from gan_lessons.training import EpochSeededImages

REPO = Path(__file__).resolve().parent.parent
LESSONS = sorted(REPO.glob("nbs/[0-9][0-9]_*.ipynb"))


def _profile_calls():
    """(notebook, method, call node) for every `profile.pick(...)` / `profile.budget(...)` in the
    lessons' code."""
    for path in LESSONS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or "profile." not in source:
                continue
            for node in ast.walk(
                ast.parse(
                    "\n".join(line for line in source.splitlines() if not line.startswith("%"))
                )
            ):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "profile"
                    and node.func.attr in ("pick", "budget", "expect")
                ):
                    yield path.name, node.func.attr, node


def test_no_budget_depends_on_the_size_of_the_data():
    offenders = [
        f"{name}: {ast.unparse(node)[:90]}"
        for name, _, node in _profile_calls()
        if any(
            isinstance(inner, ast.Call) and getattr(inner.func, "id", "") == "len"
            for inner in ast.walk(node)
        )
    ]
    assert not offenders, "budgets in images or steps, not in passes over the data:\n" + "\n".join(
        offenders
    )


def test_every_training_budget_goes_through_profile_budget():
    "`epochs`/`steps` chosen with `pick` would escape the dry run's cap."
    offenders = []
    for name, method, node in _profile_calls():
        if method != "pick":
            continue
        for keyword in node.keywords:
            if isinstance(keyword.value, ast.Dict) and {"epochs", "steps"} & {
                key.value for key in keyword.value.keys if isinstance(key, ast.Constant)
            }:
                offenders.append(f"{name}: {ast.unparse(node)[:90]}")
    assert not offenders, "use profile.budget(...) for training budgets:\n" + "\n".join(offenders)
    assert sum(method == "budget" for _, method, _ in _profile_calls()) >= 10


@pytest.mark.parametrize("pool", [1437, 8000, 60_000])
def test_an_epoch_has_the_same_cost_whatever_the_pool(pool):
    images = np.zeros((pool, 28, 28), np.uint8)
    sizes = [
        int(batch.shape[0])
        for batch in make_image_dataset(images, batch_size=64, images_per_epoch=8000)
    ]
    assert sum(sizes) == 8000 and len(sizes) == 125
    seeded = EpochSeededImages(images, batch_size=64, images_per_epoch=8000)
    assert (
        seeded.steps_per_epoch == 125
        and sum(int(batch.shape[0]) for batch in seeded.dataset) == 8000
    )


def test_epoch_seeded_images_draws_every_image_before_any_twice():
    labels = np.arange(300)
    seeded = EpochSeededImages(
        np.zeros((300, 28, 28), np.uint8), batch_size=64, labels=labels, images_per_epoch=1000
    )
    order = np.concatenate([batch_labels.numpy() for _, batch_labels in seeded.dataset])
    assert (
        len(order) == 1000
        and sorted(order[:300]) == list(range(300))
        and sorted(order[300:600]) == list(range(300))
    )
    plain = EpochSeededImages(np.zeros((300, 28, 28), np.uint8), batch_size=64, labels=labels)
    first_part = np.concatenate([batch_labels.numpy() for _, batch_labels in plain.dataset])
    assert np.array_equal(first_part, order[:300]), (
        "without images_per_epoch: the same order as before"
    )


def test_a_dry_run_caps_every_pipeline_and_budget(monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_MAX_STEPS", "2")
    images = np.zeros((1000, 28, 28), np.uint8)
    assert len(list(make_image_dataset(images, batch_size=64, images_per_epoch=1000))) == 2
    assert EpochSeededImages(images, batch_size=64, images_per_epoch=1000).steps_per_epoch == 2
    # pipelines without a training budget (lesson 01's batch arithmetic, lesson 05's resume demo)
    # are left whole
    assert len(list(make_image_dataset(images, batch_size=64))) == 16
    assert EpochSeededImages(images, batch_size=64).steps_per_epoch == 16
    dry = Profile("gpu", "test", max_steps=2)
    assert dry.dry_run and not dry.learns and dry.pick(smoke=1, cpu=2, gpu=3) == 3
    assert dry.budget(
        smoke=dict(epochs=1), cpu=dict(epochs=8), gpu=dict(epochs=60, images_per_epoch=8000)
    ) == dict(epochs=2, images_per_epoch=8000)
    monkeypatch.setenv("GAN_LESSONS_MAX_STEPS", "two")
    with pytest.raises(
        ValueError, match="GAN_LESSONS_MAX_STEPS='two' is not a positive whole number"
    ):
        make_image_dataset(images, images_per_epoch=1000)
