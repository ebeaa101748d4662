"""Lesson 14: the flow-matching pieces, a sampler on a case with a known answer, the model's
resume, the command line and the shipped diffusion-mnist."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.diffusion import (
    DIFFUSION_RECIPE,
    Reflow,
    TimeFeatures,
    build_flow_matching,
    build_unet,
    continue_from,
    coverage,
    evaluations,
    flow_matching_loss,
    flow_sampler,
    guided_velocity,
    integrate,
    label_count,
    reflow_pairs,
    straight_path,
    target_velocity,
)
from gan_lessons.exercises import ExerciseError
from gan_lessons.exercises_beyond import (
    check_euler,
    check_flow_matching_loss,
    check_guided_velocity,
)


def test_the_unet_maps_images_times_and_labels_to_a_velocity_image():
    network = build_unet(widths=(8, 16, 16), embed_dim=32, num_classes=3)
    velocity = network([np.zeros((4, 28, 28, 1)), np.linspace(0, 1, 4), np.array([0, 1, 2, 3])])
    assert velocity.shape == (4, 28, 28, 1) and label_count(network) == 3
    assert network.get_layer("label_embedding").input_dim == 4  # three classes and "no label"
    features = TimeFeatures(16)(np.array([0.0, 1.0], "float32")).numpy()
    assert features.shape == (2, 16) and np.allclose(features[0], [0] * 8 + [1] * 8)


def test_the_loss_of_a_network_that_answers_zero_is_the_mean_square_of_data_minus_noise():
    network = build_unet(widths=(8, 16, 16), embed_dim=32)  # its last layer starts at zero
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    noise = rng.normal(size=images.shape).astype("float32")
    times = rng.uniform(size=8).astype("float32")
    loss = flow_matching_loss(network, images, np.zeros(8, "int32"), noise, times)
    assert np.isclose(float(loss), np.mean((images - noise) ** 2), rtol=1e-5)
    point = straight_path(noise, images, times).numpy()
    assert np.allclose(point[3], (1 - times[3]) * noise[3] + times[3] * images[3], atol=1e-6)
    assert np.allclose(target_velocity(noise, images), images - noise)


def gaussian_velocity(mean: float, spread: float):
    """The exact flow-matching velocity that carries N(0, 1) to N(mean, spread²) on the straight
    path: E[x − ε | x_t] = mean + (x_t − t·mean)(t·spread² − (1 − t)) / ((1 − t)² + t²·spread²)."""

    def velocity(points, times):
        t = keras.ops.reshape(times, (-1, 1))
        variance = (1 - t) ** 2 + t**2 * spread**2
        return mean + (points - t * mean) * (t * spread**2 - (1 - t)) / variance

    return velocity


@pytest.mark.parametrize("method, steps, tolerance", [("euler", 200, 2e-2), ("heun", 32, 3e-3)])
def test_integrating_the_exact_gaussian_velocity_lands_on_the_exact_transport(
    method, steps, tolerance
):
    start = np.array([[-2.0], [-0.5], [0.0], [1.0], [2.5]], "float32")
    landed = integrate(gaussian_velocity(3.0, 0.5), start, steps, method).numpy()
    assert np.allclose(landed, 3.0 + 0.5 * start, atol=tolerance), landed.ravel()
    # and samples of N(0, 1) become samples of N(3, 0.25)
    draws = keras.random.normal((20_000, 1), seed=0)
    moved = integrate(gaussian_velocity(3.0, 0.5), draws, 16, "heun").numpy()
    assert abs(moved.mean() - 3.0) < 0.02 and abs(moved.std() - 0.5) < 0.02


def test_heun_is_second_order_and_costs_two_evaluations_a_step_but_the_last():
    calls = []

    def counted(points, times):
        calls.append(1)
        return points

    integrate(counted, np.ones((1, 1), "float32"), 8, "heun")
    assert len(calls) == 15 == evaluations(8, "heun") and evaluations(8, "heun", 2.0) == 30
    with pytest.raises(ValueError, match=r"one of \('euler', 'heun'\), got 'rk4'"):
        integrate(counted, np.ones((1, 1)), 4, "rk4")


def test_guidance_moves_from_the_unconditional_velocity_through_the_conditional_one():
    network = build_unet(widths=(8, 16, 16), embed_dim=32, num_classes=3)
    network.get_layer("velocity").set_weights(
        [np.full_like(w, 0.01) for w in network.get_layer("velocity").get_weights()]
    )
    images, times = np.random.default_rng(1).normal(size=(2, 28, 28, 1)), np.array([0.2, 0.7])
    labels = np.array([1, 2], "int32")
    with_label = network([images, times, labels]).numpy()
    without = network([images, times, np.array([3, 3], "int32")]).numpy()
    assert not np.allclose(with_label, without)
    for guidance in (0.0, 1.0, 2.5):
        guided = guided_velocity(network, images, times, labels, guidance).numpy()
        assert np.allclose(guided, without + guidance * (with_label - without), atol=1e-5)


def test_the_sampler_saves_and_loads_with_its_settings(tmp_path):
    network = build_unet(widths=(8, 16, 16), embed_dim=32)
    sampler = flow_sampler(network, steps=3, method="euler", guidance=2.0)
    noise = keras.random.normal((4, 784), seed=3)
    before = sampler(noise).numpy()
    assert before.shape == (4, 28, 28, 1) and np.abs(before).max() <= 1
    sampler.save(tmp_path / "sampler.keras")
    loaded = keras.saving.load_model(tmp_path / "sampler.keras")
    layer = loaded.get_layer("flow_sampler")
    assert (layer.steps, layer.method, layer.guidance) == (3, "euler", 2.0)
    assert np.allclose(loaded(noise).numpy(), before, atol=1e-5)


def test_coverage_sees_dropped_modes():
    real = np.random.default_rng(0).normal(size=(300, 4))
    assert coverage(real, real) == 1.0
    assert coverage(real, real[real[:, 0] > 0]) < 0.7
    with pytest.raises(ValueError, match="expected features"):
        coverage(real, real[:, :2])


def test_training_resumes_to_the_same_weights(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    labels = np.arange(64) % 10
    from gan_lessons.training import EpochSeededImages

    def train(epochs, out, initial=0, model=None):
        # without XLA: resuming is the same either way, and each compile would cost seconds
        recipe = dict(widths=(8, 16, 16), jit_compile=False)
        model = model or build_flow_matching(seed=0, recipe=recipe)
        batches = EpochSeededImages(images, 32, 0, labels, images_per_epoch=64)
        from gan_lessons.checkpoints import checkpoint_callbacks

        saving = checkpoint_callbacks(out, "w.weights.h5", 0)
        callbacks = [batches.callback, *saving]
        model.fit(batches.dataset, epochs=epochs, verbose=0, shuffle=False, callbacks=callbacks)
        return model

    whole = train(2, tmp_path / "whole")
    train(1, tmp_path / "parts")
    resumed = train(2, tmp_path / "parts")  # a fresh model: BackupAndRestore restores epoch 1
    for left, right in zip(whole.average.weights, resumed.average.weights):
        assert np.allclose(left.numpy(), right.numpy(), atol=1e-6)
    assert float(resumed.average_updates.numpy()) == 4.0


def test_the_exercise_checkers_pass_the_solutions_and_name_the_slips():
    def loss(network, images, labels, noise, times, flip_path=False, flip_target=False):
        t = keras.ops.reshape(times, (-1, 1, 1, 1))
        path = t * noise + (1 - t) * images if flip_path else (1 - t) * noise + t * images
        target = noise - images if flip_target else images - noise
        return keras.ops.mean(keras.ops.square(network([path, times, labels]) - target))

    assert check_flow_matching_loss(loss)
    with pytest.raises(ExerciseError, match="path runs the wrong way"):
        check_flow_matching_loss(lambda *a: loss(*a, flip_path=True))
    with pytest.raises(ExerciseError, match="target is the wrong way round"):
        check_flow_matching_loss(lambda *a: loss(*a, flip_target=True))

    def euler(velocity, start, steps, sign=1.0, offset=0):
        points = start
        for step in range(steps):
            times = keras.ops.full((keras.ops.shape(start)[0],), (step + offset) / steps)
            points = points + sign * velocity(points, times) / steps
        return points

    assert check_euler(euler)
    with pytest.raises(ExerciseError, match="against the velocity"):
        check_euler(lambda v, s, n: euler(v, s, n, sign=-1.0))
    with pytest.raises(ExerciseError, match="velocity asked at times"):
        check_euler(lambda v, s, n: euler(v, s, n, offset=1))
    with pytest.raises(ExerciseError, match="multiply it by 1/steps"):
        check_euler(_whole_steps)

    def guided(network, images, times, labels, guidance, swap=False):
        with_label = network([images, times, labels])
        without = network([images, times, keras.ops.full_like(labels, 10)])
        if swap:
            with_label, without = without, with_label
        return without + guidance * (with_label - without)

    assert check_guided_velocity(guided)
    with pytest.raises(ExerciseError, match="swapped"):
        check_guided_velocity(lambda *a: guided(*a, swap=True))

    def paper_form(network, images, times, labels, guidance):  # Ho & Salimans' w is ours − 1
        with_label = network([images, times, labels])
        without = network([images, times, keras.ops.full_like(labels, 10)])
        w = guidance - 1
        return (1 + w) * with_label - w * without

    assert check_guided_velocity(paper_form)
    with pytest.raises(ExerciseError, match="the sign is flipped"):
        check_guided_velocity(  # v(none) − w·(v(label) − v(none))
            lambda n, x, t, y, w: 2 * guided(n, x, t, y, 0.0) - guided(n, x, t, y, w)
        )
    assert check_guided_velocity(lambda *a: None) is False  # "Run all" with the exercise unsolved


def _whole_steps(velocity, start, steps):
    "The slip of forgetting the step size: each step moves a whole velocity."
    points = start
    for step in range(steps):
        points = points + velocity(
            points, keras.ops.full((keras.ops.shape(start)[0],), step / steps)
        )
    return points


def test_train_sample_and_evaluate_from_the_command_line(with_data, run_cli, tmp_path, monkeypatch):
    """The command line's wiring, on a small U-Net without XLA (lesson 14's smoke run compiles the
    recipe's): train, its record and quality row, sample to .npz, evaluate with a sampler."""
    import functools

    from gan_lessons.runs import Run

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(DIFFUSION_RECIPE, "widths", (8, 16, 16))
    monkeypatch.setitem(DIFFUSION_RECIPE, "jit_compile", False)
    # the curve's row, not its precision, is checked: 100 samples instead of the run's 1,000
    monkeypatch.setattr(Run, "quality_curve", functools.partialmethod(Run.quality_curve, count=100))
    code, out, err = run_cli(
        ["train", "diffusion", "--out", "run", "--images", "256", "--epochs", "1"]
    )
    assert code == 0, err
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["completed_epochs"] == 1 and record["model"] == "diffusion"
    assert record["quality_curve"][-1]["epoch"] == 1  # the last epoch is measured
    code, out, err = run_cli(
        ["sample", "run", "--n", "20", "--steps", "2", "--method", "euler", "--out", "s.npz"]
    )
    assert code == 0, err
    with np.load(tmp_path / "s.npz") as saved:
        assert saved["images"].shape == (20, 28, 28) and saved["images"].dtype == np.uint8
    code, out, err = run_cli(["evaluate", "run", "--n", "100", "--steps", "2", "--json"])
    report = json.loads(out)
    assert code == 0 and report["steps"] == 2 and report["evaluations"] == 3  # Heun: 2·2 − 1
    code, out, err = run_cli(["evaluate", "dcgan-mnist", "--steps", "4"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--steps does not apply" in err


def test_every_image_model_samples_to_an_npz_with_labels_when_conditional(
    run_cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["sample", "cgan-mnist", "--n", "30", "--out", "c.npz"])
    assert code == 0, err
    with np.load(tmp_path / "c.npz") as saved:
        assert saved["images"].shape == (30, 28, 28) and list(saved["labels"][:3]) == [0, 1, 2]
    code, out, err = run_cli(["sample", "vae-mnist", "--n", "5", "--out", "missing/v.npz"])
    assert code == 2 and "does not exist" in err and not (tmp_path / "missing").exists()


def test_the_trilemma_rows_are_there_for_lesson_14():
    from gan_lessons.files import benchmark_rows

    rows = benchmark_rows("diffusion_trilemma.jsonl")
    models = {row["model"] for row in rows if row["role"] == "model"}
    assert {"dcgan-mnist", "vae-mnist", "diffusion-mnist"} <= models
    sweep = {(row["method"], row["steps"]) for row in rows if row["role"] == "sweep"}
    assert {("euler", 4), ("heun", 4), ("euler", 32), ("heun", 16)} <= sweep
    raw = next(row for row in rows if row["role"] == "raw")
    assert (raw["method"], raw["steps"]) == (DIFFUSION_RECIPE["method"], DIFFUSION_RECIPE["steps"])


def test_reflow_pairs_are_where_the_flow_carries_each_noise_and_refuse_missing_labels():
    network = build_unet((8, 16, 16), embed_dim=16)
    noise = np.random.default_rng(0).normal(size=(3, 28, 28, 1)).astype("float32")
    labels = np.array([1, 4, 7])
    ends = reflow_pairs(network, noise, labels, steps=2, method="euler", batch_size=2)

    def velocity(x, t):
        return guided_velocity(network, x, t, labels, 1.0)

    expected = np.clip(integrate(velocity, noise, 2, "euler").numpy(), -1, 1)
    np.testing.assert_allclose(ends, expected, atol=1e-5)
    with pytest.raises(ValueError, match="one label per noise image: 2 labels, 3 images"):
        reflow_pairs(network, noise, labels[:2])


def test_reflow_starts_from_a_copy_and_trains_on_the_pairs_it_is_given():
    network = build_unet((8, 16, 16), embed_dim=16)
    model = continue_from(network, Reflow, ema_decay=0.9, jit_compile=False)
    for copy in (model.network, model.average):
        assert copy is not network
        for mine, theirs in zip(copy.get_weights(), network.get_weights()):
            np.testing.assert_array_equal(mine, theirs)
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(4, 28, 28, 1)).astype("float32")
    ends = np.clip(noise + 0.5, -1, 1).astype("float32")
    batches = tf.data.Dataset.from_tensor_slices((noise, ends, np.arange(4) % 10)).batch(2)
    model.fit(batches, epochs=1, verbose=0)
    moved = [not np.array_equal(a, b) for a, b in zip(model.network.get_weights(),
                                                      network.get_weights())]  # fmt: skip
    assert any(moved), "two steps on the pairs left the copy unchanged"
    assert model.average_updates.numpy() > 1e6  # the average started trained: no warm-up ramp


def test_the_reflow_rows_compare_both_arms_at_every_budget_on_one_sample_size():
    from gan_lessons.files import benchmark_rows

    rows = benchmark_rows("diffusion_reflow.jsonl")
    assert len({row["n"] for row in rows}) == 1
    points = {(row["arm"], row["cpu_seconds"], row["sampler_steps"]) for row in rows}
    budgets = {row["cpu_seconds"] for row in rows if row["arm"] != "before"}
    steps = {row["sampler_steps"] for row in rows}
    expected = {("before", 0, s) for s in steps} | {
        (arm, b, s) for arm in ("continued", "reflow") for b in budgets for s in steps
    }
    assert points == expected and len(rows) == len(expected) and steps == {1, 2, 4}
    assert all(row["fcd_ratio_sd"] > 0 for row in rows)
