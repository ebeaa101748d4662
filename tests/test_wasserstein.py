"""Lesson 09: the gradient penalty, weight clipping, spectral normalization, the Wasserstein train
step, the variants."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.discriminator import build_discriminator
from gan_lessons.generator import build_generator
from gan_lessons.wasserstein import (
    WassersteinGAN,
    batch_size_for,
    build_wgan,
    gradient_penalty,
    wasserstein_train_step,
)

SMALL_G, SMALL_CRITIC = dict(channels=(32, 16, 8)), dict(filters=(8, 16), dropout=0.0)


def _linear_critic(kernel):
    critic = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    critic.layers[-1].kernel.assign(kernel)
    return critic


@pytest.mark.parametrize("scale", [0.0, 0.01, 0.0357, 0.2])
def test_gradient_penalty_of_a_linear_critic_is_the_squared_distance_of_its_norm_from_one(scale):
    kernel = tf.random.normal((784, 1), seed=1) * scale
    critic = _linear_critic(kernel)
    real, fake = tf.random.uniform((6, 28, 28, 1), -1, 1), tf.random.uniform((6, 28, 28, 1), -1, 1)
    expected = (float(tf.norm(kernel)) - 1.0) ** 2
    assert abs(float(gradient_penalty(critic, real, fake)) - expected) < 1e-4
    with (
        tf.GradientTape() as tape
    ):  # the safe norm: finite even where the gradient vanishes (scale 0)
        penalty = gradient_penalty(critic, real, fake)
    assert np.all(np.isfinite(tape.gradient(penalty, critic.layers[-1].kernel).numpy()))


def test_the_critic_loss_carries_the_penalty_times_its_weight():
    kernel = tf.random.normal((784, 1), seed=2) * 0.05
    critic, generator = _linear_critic(kernel), build_generator(**SMALL_G)
    logs = wasserstein_train_step(
        generator,
        critic,
        keras.optimizers.SGD(0.0),
        keras.optimizers.SGD(0.0),
        tf.random.uniform((10, 28, 28, 1), -1, 1),
        lambda n: tf.random.normal((n, 100)),
        critic_steps=2,
        gp_weight=7.0,
    )
    penalty = (float(tf.norm(kernel)) - 1.0) ** 2
    assert abs(float(logs["gradient_penalty"]) - penalty) < 1e-4
    assert abs(float(logs["d_loss"] + logs["wasserstein_estimate"]) - 7.0 * penalty) < 1e-3


def test_weight_clipping_keeps_every_critic_weight_within_the_bound():
    gan = WassersteinGAN(
        build_generator(**SMALL_G),
        build_discriminator(**SMALL_CRITIC),
        critic_steps=3,
        gp_weight=0.0,
        clip_value=0.02,
    )
    gan.compile(
        d_optimizer=keras.optimizers.RMSprop(1e-2), g_optimizer=keras.optimizers.RMSprop(1e-3)
    )
    gan.train_step(tf.random.uniform((30, 28, 28, 1), -1, 1))
    weights = gan.critic.trainable_variables
    assert max(float(tf.reduce_max(tf.abs(weight))) for weight in weights) <= 0.02 + 1e-7
    assert any(float(tf.reduce_max(tf.abs(weight))) > 0.019 for weight in weights), (
        "a large step should hit the bound"
    )


def test_spectrally_normalized_layers_have_largest_singular_value_one():
    critic = build_discriminator(filters=(8, 16), dropout=0.0, spectral_norm=True)
    probe = tf.random.uniform((4, 28, 28, 1), -1, 1)
    for _ in range(200):
        critic(probe, training=True)
    wrapped = [
        layer for layer in critic.layers if isinstance(layer, keras.layers.SpectralNormalization)
    ]
    assert len(wrapped) == 3
    for layer in wrapped:
        kernel = layer.layer.kernel.numpy()
        assert (
            abs(np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0] - 1) < 0.02
        ), layer.name


def _snapshot(model):
    return [variable.numpy().copy() for variable in model.trainable_variables]


def _moved(before, model):
    return any(
        not np.array_equal(old, new.numpy()) for old, new in zip(before, model.trainable_variables)
    )


@pytest.mark.parametrize("variant", ["wgan", "wgan-gp", "sngan"])
@pytest.mark.parametrize("frozen", ["generator", "critic"])
def test_each_variant_step_changes_only_the_networks_it_should(variant, frozen):
    gan = build_wgan(variant, "fast", seed=0)
    optimizer = type(gan.d_optimizer)
    rates = {"generator": 1e-3, "critic": 1e-3, frozen: 0.0}
    gan.compile(d_optimizer=optimizer(rates["critic"]), g_optimizer=optimizer(rates["generator"]))
    g_before, c_before = _snapshot(gan.generator), _snapshot(gan.discriminator)
    logs = gan.train_step(tf.random.uniform((batch_size_for(gan, 8), 28, 28, 1), -1, 1))
    assert np.isfinite(float(logs["loss"]))
    moved = {
        "generator": _moved(g_before, gan.generator),
        "critic": _moved(c_before, gan.discriminator),
    }
    if (
        variant == "wgan" and frozen == "critic"
    ):  # a critic the optimizer leaves alone is still clipped
        assert moved["generator"]
        for old, new in zip(c_before, gan.discriminator.trainable_variables):
            np.testing.assert_array_equal(np.clip(old, -0.01, 0.01), new.numpy())
    elif (
        variant == "sngan" and frozen == "critic"
    ):  # spectral normalization still rescales each kernel
        assert moved["generator"]
        for old, new in zip(c_before, gan.discriminator.trainable_variables):
            scale = float(np.sum(new.numpy() * old) / np.sum(old * old)) if np.any(old) else 1.0
            np.testing.assert_allclose(
                new.numpy(), scale * old, rtol=1e-4, atol=1e-7, err_msg=new.path
            )
    else:
        assert moved == {frozen: False, ({"generator", "critic"} - {frozen}).pop(): True}


def test_each_critic_step_sees_its_own_real_images():
    seen = []

    class Recording(keras.Model):
        def __init__(self):
            super().__init__()
            self.score = keras.layers.Dense(1)

        def call(self, images, training=False):
            seen.append(images)
            return self.score(keras.ops.reshape(images, (-1, 784)))

    critic = Recording()
    critic(tf.zeros((1, 28, 28, 1)))
    seen.clear()
    batch = tf.reshape(tf.repeat(tf.range(12, dtype=tf.float32), 784), (12, 28, 28, 1))
    wasserstein_train_step(
        build_generator(**SMALL_G),
        critic,
        keras.optimizers.SGD(0.0),
        keras.optimizers.SGD(0.0),
        batch,
        lambda n: tf.random.normal((n, 100)),
        critic_steps=3,
        gp_weight=0.0,
    )
    reals = [
        sorted(np.round(images.numpy()[:, 0, 0, 0]).astype(int).tolist()) for images in seen[0:6:2]
    ]
    assert reals == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]]
    with pytest.raises(ValueError, match="critic_steps must be"):
        wasserstein_train_step(None, critic, None, None, batch, None, critic_steps=0)


def test_unknown_variants_and_recipes_are_refused():
    with pytest.raises(ValueError, match="expected one of wgan, wgan-gp, sngan"):
        build_wgan("lsgan")
    with pytest.raises(ValueError, match="expected one of fast, full"):
        build_wgan("wgan", "huge")


@pytest.mark.slow  # trains a WGAN-GP from the command line
def test_command_line_trains_and_evaluates_a_wgan_gp(with_data, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(["train", "wgan-gp", "--out", "run", "--epochs", "1", "--images", "640"])[0] == 0
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    # one critic step per batch of 64 (the two time-scale rule), self-conditioned on 50 clusters
    assert record["batch_size"] == 64 and record["completed_epochs"] == 1
    assert record["settings"]["clusters"] == 50 and len(record["cluster_sizes"]) == 50
    assert [row["epoch"] for row in record["quality_curve"]] == [1]  # the last epoch is measured
    assert {"classifier_score", "fcd", "wasserstein_estimate"} <= set(record["quality_curve"][0])
    code, out, _ = run_cli(["evaluate", "run", "--n", "200", "--json"])
    assert code == 0 and json.loads(out)["n_samples"] == 200


def test_the_lever_comparison_and_the_shipped_run_are_there_for_lesson_09():
    from gan_lessons import pretrained

    rows = pretrained.benchmark_rows("wgan_gp_levers.jsonl")
    variants = {row["variant"] for row in rows}
    assert {"previous", "paper-adam", "ttur", "ttur-lazy4", "ttur-sc50"} <= variants
    budget = max(row["cpu_seconds"] for row in rows)
    assert all(
        any(r["variant"] == v and r["cpu_seconds"] == budget for r in rows) for v in variants
    )
    run = json.loads((pretrained.assets_dir() / "wgan-gp-mnist.run.json").read_text())
    curve = run["quality_curve"]
    assert run["model"] == "wgan-gp" and len(curve) >= 5
    assert curve[-1]["fcd"] < curve[0]["fcd"] and "wasserstein_estimate" in curve[-1]
    assert run["command"] in pretrained.model_card("wgan-gp-mnist")


def test_pretrained_wgan_gp_draws_every_digit_far_better_than_an_untrained_generator(mnist_metrics):
    from gan_lessons import pretrained

    metrics = mnist_metrics[0]
    noise = keras.random.normal((1000, 100), seed=5)
    trained = metrics.scores(pretrained.load("wgan-gp-mnist")(noise, training=False).numpy())
    keras.utils.set_random_seed(0)
    untrained = metrics.scores(
        build_generator(channels=(128, 64, 32))(noise, training=False).numpy()
    )
    # the model card: score 6.44, FCD 120 on 2,000 samples; an untrained generator scores ≈ 1 with
    # FCD in the hundreds
    assert trained["classifier_score"] >= 5.5 and min(trained["class_fractions"]) >= 0.03
    assert trained["fcd"] < untrained["fcd"] / 3 and untrained["classifier_score"] < 2
