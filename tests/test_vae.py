"""Lesson 13: the VAE's pieces against known answers, and that it learns."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.vae import (
    VAE_LATENT_DIM,
    build_decoder,
    build_encoder,
    build_vae,
    heldout_elbo,
    kl_to_standard_normal,
    latent_grid,
    reconstruction_nats,
    reparameterize,
    sharpness,
)


def test_encoder_and_decoder_shapes_follow_the_arithmetic():
    mean, log_variance = build_encoder(8)(tf.zeros((3, 28, 28, 1)))
    assert mean.shape == log_variance.shape == (3, 8)
    assert build_decoder(8)(tf.zeros((3, 8))).shape == (3, 28, 28, 1)


def test_the_kl_term_equals_its_closed_form_and_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mean, log_variance = (
        rng.normal(size=(4, 5)).astype("float32"),
        rng.normal(size=(4, 5)).astype("float32") * 0.5,
    )
    variance = np.exp(log_variance)
    closed = 0.5 * (variance + mean**2 - 1 - log_variance).sum(axis=1)
    np.testing.assert_allclose(kl_to_standard_normal(mean, log_variance), closed, rtol=1e-5)
    z = mean + np.sqrt(variance) * rng.normal(size=(200_000, 4, 5))
    monte_carlo = (-0.5 * ((z - mean) ** 2 / variance + log_variance) + 0.5 * z**2).sum(-1).mean(0)
    np.testing.assert_allclose(closed, monte_carlo, rtol=0.03)


def test_reparameterized_samples_have_the_right_mean_and_variance_and_gradients():
    mean = tf.constant([[3.0, -1.0]])
    log_variance = tf.constant([[np.log(9.0), np.log(0.01)]], dtype=tf.float32)
    draws = reparameterize(
        tf.repeat(mean, 100_000, 0), tf.repeat(log_variance, 100_000, 0), seed=0
    ).numpy()
    np.testing.assert_allclose(draws.mean(axis=0), [3.0, -1.0], atol=0.03)
    np.testing.assert_allclose(draws.var(axis=0), [9.0, 0.01], rtol=0.03)
    with tf.GradientTape() as tape:
        tape.watch([mean, log_variance])
        total = tf.reduce_sum(reparameterize(mean, log_variance, seed=1))
    assert all(gradient is not None for gradient in tape.gradient(total, [mean, log_variance]))


def test_reconstruction_is_bernoulli_cross_entropy_summed_over_pixels():
    images = keras.random.uniform((2, 28, 28, 1), -1, 1, seed=0)
    logits = keras.random.normal((2, 28, 28, 1), seed=1)
    probabilities = 1 / (1 + np.exp(-np.asarray(logits)))
    targets = (np.asarray(images) + 1) / 2
    expected = (
        -(targets * np.log(probabilities) + (1 - targets) * np.log(1 - probabilities))
        .reshape(2, -1)
        .sum(1)
    )
    np.testing.assert_allclose(reconstruction_nats(images, logits), expected, rtol=1e-4)
    assert np.isfinite(reconstruction_nats(images, 1e4 * tf.ones((2, 28, 28, 1)))).all(), (
        "stable for large logits"
    )


def test_the_vae_loss_decreases_on_a_small_batch():
    keras.utils.set_random_seed(0)
    vae = build_vae(latent_dim=4, seed=0)
    batch = np.tile(
        np.linspace(-1, 1, 28 * 28, dtype=np.float32).reshape(1, 28, 28, 1), (16, 1, 1, 1)
    )
    batch[8:] *= -1  # two distinct images
    first = heldout_elbo(vae, batch)["elbo"]
    vae.fit(batch, batch_size=16, epochs=30, verbose=0)
    assert heldout_elbo(vae, batch)["elbo"] > first + 50, (
        "the ELBO rises (the loss falls) on a batch it trains on"
    )


def test_the_sampler_follows_the_image_contract_and_the_grid_its_layout():
    vae = build_vae(seed=0)
    images = vae.as_generator()(keras.random.normal((5, VAE_LATENT_DIM), seed=0)).numpy()
    assert images.shape == (5, 28, 28, 1) and images.min() >= -1 and images.max() <= 1
    grid = latent_grid(vae.as_generator(), dims=(0, 1), steps=3)
    assert grid.shape == (9, 28, 28, 1) and np.allclose(
        grid[4], vae.as_generator()(np.zeros((1, VAE_LATENT_DIM))), atol=1e-5
    )


def test_sharpness_separates_ink_from_gray():
    ink = np.where(np.indices((28, 28)).sum(0)[None, ..., None] % 2 == 0, 1.0, -1.0)
    assert sharpness(ink)["edge"] == pytest.approx(1.0) and sharpness(ink)["gray_share"] == 0
    assert (
        sharpness(np.zeros((1, 28, 28, 1)))["gray_share"] == 1
        and sharpness(np.zeros((1, 28, 28, 1)))["edge"] == 0
    )
    with pytest.raises(ValueError, match="expected images shaped"):
        sharpness(np.zeros((28, 28)))


def test_reparameterize_checker_accepts_the_solution_and_names_typical_mistakes():
    from gan_lessons.exercises import ExerciseError
    from gan_lessons.exercises_beyond import check_reparameterize

    assert check_reparameterize(
        lambda mean, log_variance, seed: reparameterize(mean, log_variance, seed)
    )
    mistakes = (
        (
            lambda m, lv, s: (
                m + keras.ops.exp(lv) * keras.random.normal(keras.ops.shape(m), seed=s)
            ),
            "standard deviation",
        ),
        (lambda m, lv, s: m + 0 * lv, "every draw equals the mean"),
        (
            lambda m, lv, s: (
                keras.ops.exp(0.5 * lv) * keras.random.normal(keras.ops.shape(m), seed=s)
            ),
            "add the mean",
        ),
    )
    for wrong, message in mistakes:
        with pytest.raises(ExerciseError, match=message):
            check_reparameterize(wrong)


@pytest.mark.slow  # trains the VAE from the command line
def test_train_vae_writes_a_generator_that_sample_and_evaluate_accept(with_data, tmp_path, run_cli):
    import json

    from gan_lessons import pretrained

    argv = ["train", "vae", "--out", str(tmp_path / "run"), "--images", "256"]
    assert run_cli([*argv, "--epochs", "1"])[0] == 0
    code, out, _ = run_cli([*argv, "--epochs", "2"])
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert code == 0 and "resuming after epoch 1 of 2" in out and record["completed_epochs"] == 2
    assert record["heldout_elbo"] == pytest.approx(
        -(record["heldout_reconstruction"] + record["heldout_kl"]), abs=0.02
    )
    generator = pretrained.load(tmp_path / "run")
    assert generator.latent_dim == VAE_LATENT_DIM
    assert (
        run_cli(["sample", str(tmp_path / "run"), "--n", "4", "--out", str(tmp_path / "grid.png")])[
            0
        ]
        == 0
    )
    code, out, _ = run_cli(["evaluate", "vae-mnist", "--n", "300", "--json"])
    assert code == 0 and json.loads(out)["classifier_score"] > 3


def test_the_shipped_vae_samples_from_its_latent_mixture():
    "Its numbers are its record's (test_pretrained); what it samples from is checked here."
    from gan_lessons import pretrained

    assert pretrained.load("vae-mnist").get_layer("latent_mixture") is not None
