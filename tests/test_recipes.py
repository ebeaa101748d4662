"""Lesson 07's options, each on its own, the recipes built from them, and every GAN variant refusing
an option its step would not call."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.conditional import build_cgan
from gan_lessons.discriminator import build_discriminator
from gan_lessons.generator import build_generator
from gan_lessons.recipes import (
    DCGAN_RECIPES,
    DiffAugment,
    R1Penalty,
    TopK,
    WeightAverage,
    build_dcgan,
    diff_augment,
    real_logits_and_r1,
)
from gan_lessons.setup import seed_everything
from gan_lessons.training import GAN, fit_gan
from gan_lessons.wasserstein import WassersteinGAN, build_wgan

SMALL_G, SMALL_D = dict(channels=(32, 16, 8)), dict(filters=(8, 16))


def _gan(*options, seed=11, dropout=0.3):
    seed_everything(seed)
    gan = GAN(
        build_generator(**SMALL_G),
        build_discriminator(**SMALL_D, dropout=dropout),
        seed=seed,
        options=options,
    )
    gan.compile(d_optimizer=keras.optimizers.SGD(1e-2), g_optimizer=keras.optimizers.SGD(1e-2))
    return gan


def _weights(model):
    return [w.numpy() for w in model.weights]


def test_r1_penalty_of_a_linear_discriminator_is_its_squared_weight_norm():
    linear = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    images = tf.random.uniform((6, 28, 28, 1), -1, 1)
    logits, penalty = real_logits_and_r1(linear, images)
    expected = float(tf.reduce_sum(tf.square(linear.layers[-1].kernel)))
    assert logits.shape == (6, 1) and np.isclose(float(penalty), expected, rtol=1e-5)
    with tf.GradientTape() as tape:  # differentiable in the weights: d‖w‖²/dw = 2w
        _, penalty = real_logits_and_r1(linear, images)
    gradient = tape.gradient(penalty, linear.layers[-1].kernel).numpy()
    assert np.allclose(gradient, 2 * linear.layers[-1].kernel.numpy(), rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="gamma must be positive"):
        R1Penalty(0.0)


def test_r1_changes_only_the_discriminator_update():
    real = tf.random.uniform((8, 28, 28, 1), -1, 1, seed=3)
    plain, penalised = _gan(), _gan(R1Penalty(10.0))
    plain.train_step(real), penalised.train_step(real)
    assert all(
        np.allclose(a, b) for a, b in zip(_weights(plain.generator), _weights(penalised.generator))
    )
    assert not all(
        np.allclose(a, b)
        for a, b in zip(_weights(plain.discriminator), _weights(penalised.discriminator))
    )


def test_weight_average_warms_up_lags_and_is_sampled_from():
    gan = _gan(WeightAverage(0.9))
    start = _weights(gan.ema_generator)
    gan.train_step(tf.random.uniform((8, 28, 28, 1), -1, 1, seed=3))
    # one update with the warm-up decay (1 + 1) / (10 + 1): average = d·start + (1 − d)·new
    decay = 2 / 11
    expected = [decay * a + (1 - decay) * b.numpy() for a, b in zip(start, gan.generator.weights)]
    assert all(
        np.allclose(e, a.numpy(), atol=1e-6) for e, a in zip(expected, gan.ema_generator.weights)
    )
    noise = tf.random.normal((4, gan.latent_dim))
    assert gan.sampler is gan.ema_generator
    np.testing.assert_array_equal(
        gan(noise).numpy(), gan.ema_generator(noise, training=False).numpy()
    )
    with pytest.raises(ValueError, match="decay must be in"):
        WeightAverage(1.0)


def test_diff_augment_shifts_cuts_and_passes_gradients_to_the_input():
    images = tf.random.uniform((64, 28, 28, 1), 0.5, 1.0)  # no zeros of their own
    augmented = diff_augment(images, keras.random.SeedGenerator(0))
    zero_share = (augmented.numpy() == 0).reshape(64, -1).mean(axis=1)
    assert augmented.shape == images.shape and zero_share.min() > 0 and zero_share.max() < 0.6
    assert len(set(zero_share.round(4))) > 10  # drawn per image, not one draw for the batch
    unchanged = diff_augment(images, keras.random.SeedGenerator(0), shift=0, cutout=0)
    np.testing.assert_array_equal(unchanged.numpy(), images.numpy())
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(diff_augment(images, keras.random.SeedGenerator(1)))
    gradient = tape.gradient(total, images).numpy()
    assert set(np.unique(gradient)) <= {0.0, 1.0}  # every output pixel is one input pixel, or zero
    assert 0.4 * images.numpy().size < gradient.sum() < images.numpy().size
    gan = _gan(DiffAugment())
    assert gan.augment(images).shape == images.shape and hasattr(gan, "augment_seed")


def test_top_k_learns_from_the_best_fakes_and_leaves_the_discriminator_alone():
    real = tf.random.uniform((8, 28, 28, 1), -1, 1, seed=3)
    plain, top = _gan(dropout=0.0), _gan(TopK(3 / 8, anneal_steps=0), dropout=0.0)
    noise = keras.random.normal((8, plain.latent_dim), seed=keras.random.SeedGenerator(11))
    logits = tf.reshape(
        plain.discriminator(plain.generator(noise, training=True), training=True), [-1]
    )
    best_three = np.sort(logits.numpy())[-3:]
    logs = top.train_step(real)
    assert float(logs["g_loss"]) == pytest.approx(
        float(np.mean(np.logaddexp(0, -best_three))), rel=1e-5
    )
    plain.train_step(real)
    assert not all(
        np.allclose(a, b) for a, b in zip(_weights(plain.generator), _weights(top.generator))
    )
    assert all(
        np.allclose(a, b)
        for a, b in zip(_weights(plain.discriminator), _weights(top.discriminator))
    )


def test_top_k_share_falls_linearly_with_generator_updates():
    gan = _gan(TopK(0.5, anneal_steps=10))
    logits = tf.zeros((64, 1))
    shares = []
    for updates in (0, 5, 10, 40):
        gan.g_optimizer.iterations.assign(updates)
        shares.append(int(tf.size(gan.generator_logits(logits))))
    assert shares == [64, 48, 32, 32]
    for fraction, steps in ((0.0, 10), (1.5, 10), (0.5, -1)):
        with pytest.raises(ValueError, match="fraction"):
            TopK(fraction, steps)


@pytest.mark.slow  # trains a GAN with each step option
@pytest.mark.parametrize("option", [DiffAugment(), TopK(0.5, 4)], ids=["augment", "top-k"])
def test_runs_with_options_resume_exactly(option, tmp_path):
    "DiffAugment draws from a seed the model owns; top-k follows the optimizer: both resume."
    images = np.random.default_rng(5).integers(0, 256, (192, 28, 28), dtype=np.uint8)

    class CrashAt(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.seen = getattr(self, "seen", 0) + 1
            if self.seen == 5:
                raise KeyboardInterrupt

    straight = _gan(WeightAverage(0.9), option)
    fit_gan(straight, images, epochs=2, out_dir=tmp_path / "straight", verbose=0)
    with pytest.raises(KeyboardInterrupt):
        fit_gan(
            _gan(WeightAverage(0.9), option),
            images,
            epochs=2,
            out_dir=tmp_path / "resumed",
            verbose=0,
            callbacks=[CrashAt()],
        )
    resumed = _gan(WeightAverage(0.9), option)
    fit_gan(resumed, images, epochs=2, out_dir=tmp_path / "resumed", verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(resumed), _weights(straight)))


def test_recipes_build_compiled_gans_and_unknown_names_are_refused():
    assert set(DCGAN_RECIPES) == {"fast", "full"}
    gan = build_dcgan("fast", seed=3)
    assert [type(option) for option in gan.options] == [R1Penalty, WeightAverage]
    assert gan.options[0].gamma == DCGAN_RECIPES["fast"]["r1_weight"] > 0
    assert (
        gan.g_optimizer.built
        and gan.d_optimizer.built
        and gan.generator.output_shape == (None, 28, 28, 1)
    )
    again = build_dcgan("fast", seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(gan), _weights(again))), (
        "the seed decides"
    )
    with pytest.raises(ValueError, match="expected one of fast, full"):
        build_dcgan("huge")


VARIANTS = {
    "dcgan": lambda options: build_dcgan("fast", options=options),
    "cgan": lambda options: build_cgan("fast", options=options),
    "sngan": lambda options: build_wgan("sngan", options=options),
    "wgan": lambda options: build_wgan("wgan", options=options),
    "wgan-gp": lambda options: build_wgan("wgan-gp", options=options),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_gan_variant_refuses_an_option_its_step_does_not_call(variant):
    build = VARIANTS[variant]
    game = type(build([]))
    refused = 0
    for option in (R1Penalty(0.1), DiffAugment(), TopK(0.5, 4), WeightAverage(0.5)):
        unused = option.hooks() - set(game.CALLS)
        if not unused:
            if "score_real" not in option.hooks():  # the recipes score reals with R1 already
                build([option])  # supported: accepted
            continue
        refused += 1
        with pytest.raises(
            ValueError, match=f"does not support {type(option).__name__}: it changes"
        ):
            build([option])
    assert refused == (3 if game is WassersteinGAN else 0), "the critic's game skips three hooks"
    if game is not WassersteinGAN:
        with pytest.raises(
            ValueError, match="only one option may change how real images are scored"
        ):
            build([R1Penalty(0.1), R1Penalty(1.0)])


def test_gans_take_no_unknown_keyword():
    "No **kwargs to swallow a misspelt option: the constructor names what it takes."
    with pytest.raises(TypeError):
        GAN(build_generator(**SMALL_G), build_discriminator(**SMALL_D), r1_weight=0.1)
    with pytest.raises(TypeError):
        WassersteinGAN(build_generator(**SMALL_G), build_discriminator(**SMALL_D), ema_decay=0.9)
