"""Lesson 10: the instruments (gradient norms, diversity, the fit() monitor) and the minibatch
standard deviation layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.debugging import (
    MinibatchStdDev,
    TrainingMonitor,
    build_minibatch_std_discriminator,
    gradient_norms,
    sample_diversity,
)
from gan_lessons.discriminator import build_discriminator
from gan_lessons.generator import build_generator
from gan_lessons.training import GAN, EpochSeededImages


def _tiny_gan(**options):
    keras.utils.set_random_seed(0)
    gan = GAN(
        build_generator(channels=(32, 16, 8)), build_discriminator(filters=(8, 16)), **options
    )
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    return gan


def test_gradient_norms_measure_without_changing_the_model():
    gan = _tiny_gan()
    before = [variable.numpy().copy() for variable in gan.variables]
    norms = gradient_norms(
        gan, tf.random.uniform((16, 28, 28, 1), -1, 1), tf.random.normal((16, 100))
    )
    assert norms["g_grad_norm"] > 0 and norms["d_grad_norm"] > 0
    assert all(np.array_equal(old, new.numpy()) for old, new in zip(before, gan.variables))


def test_the_minimax_generator_gradient_vanishes_when_the_discriminator_is_confident():
    gan = _tiny_gan()
    gan.discriminator.get_layer("logit").bias.assign(
        [-8.0]
    )  # every image scored as fake with high confidence
    real, noise = tf.random.uniform((16, 28, 28, 1), -1, 1), tf.random.normal((16, 100))
    norms = {}
    for kind in ("minimax", "non_saturating"):
        gan.generator_loss_kind = kind
        norms[kind] = gradient_norms(gan, real, noise)["g_grad_norm"]
    assert norms["non_saturating"] > 100 * norms["minimax"]


def test_sample_diversity_is_zero_for_copies_and_grows_with_spread():
    rng = np.random.default_rng(0)
    base = rng.uniform(-1, 1, (1, 28, 28, 1)).astype(np.float32)
    assert sample_diversity(np.repeat(base, 50, axis=0)) == 0
    narrow = base + 0.01 * rng.normal(size=(50, 28, 28, 1))
    wide = base + 0.1 * rng.normal(size=(50, 28, 28, 1))
    assert 0 < sample_diversity(narrow) < sample_diversity(wide)
    with pytest.raises(ValueError, match="at least 2 images"):
        sample_diversity(base)


def test_minibatch_std_feature_reflects_the_batch_spread_and_survives_saving(tmp_path):
    layer = MinibatchStdDev()
    batch = tf.random.uniform((6, 7, 7, 3))
    out = layer(batch)
    assert out.shape == (6, 7, 7, 4) and np.allclose(out[..., :3], batch)
    assert float(tf.reduce_max(layer(tf.repeat(batch[:1], 6, axis=0))[..., 3])) < 1e-3
    assert float(out[0, 0, 0, 3]) > 0.1
    discriminator = build_minibatch_std_discriminator(filters=(8, 16))
    images = tf.random.uniform((5, 28, 28, 1), -1, 1)
    assert discriminator(images).shape == (5, 1)
    discriminator.save(tmp_path / "d.keras")
    reloaded = keras.models.load_model(tmp_path / "d.keras")
    np.testing.assert_allclose(reloaded(images), discriminator(images), rtol=1e-5, atol=1e-6)


def test_training_monitor_records_one_row_per_epoch():
    gan = _tiny_gan()
    images = np.random.default_rng(0).integers(0, 256, (128, 28, 28), dtype=np.uint8)
    data = EpochSeededImages(images, batch_size=64)
    monitor = TrainingMonitor(tf.random.uniform((16, 28, 28, 1), -1, 1), sample_count=50)
    gan.fit(data.dataset, epochs=2, verbose=0, shuffle=False, callbacks=[data.callback, monitor])
    assert [row["epoch"] for row in monitor.history] == [1, 2]
    for row in monitor.history:
        assert {
            "d_real_accuracy",
            "d_fake_accuracy",
            "g_grad_norm",
            "d_grad_norm",
            "diversity",
        } <= set(row)
        assert np.isfinite(row["g_grad_norm"]) and row["diversity"] > 0


def test_training_monitor_every_k_epochs_keeps_the_final_row_of_a_run_cut_short():
    from gan_lessons.wasserstein import TrainingClock

    gan = _tiny_gan()
    images = np.random.default_rng(1).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    data = EpochSeededImages(images, batch_size=32)  # two steps per epoch
    monitor = TrainingMonitor(tf.random.uniform((8, 28, 28, 1), -1, 1), sample_count=20, every=3)
    gan.fit(data.dataset, epochs=7, verbose=0, shuffle=False, callbacks=[data.callback, monitor])
    assert [row["epoch"] for row in monitor.history] == [
        3,
        6,
    ]  # epoch 7 ended normally: not a multiple of 3
    clock = TrainingClock([1e-9], lambda *args: None)  # stops after the first step
    cut_short = TrainingMonitor(tf.random.uniform((8, 28, 28, 1), -1, 1), sample_count=20, every=3)
    gan.fit(
        data.dataset,
        epochs=7,
        verbose=0,
        shuffle=False,
        callbacks=[data.callback, clock, cut_short],
    )
    assert [row["epoch"] for row in cut_short.history] == [1]
    with pytest.raises(ValueError, match="every must be a whole number ≥ 1, got 0"):
        TrainingMonitor(tf.zeros((1, 28, 28, 1)), every=0)
