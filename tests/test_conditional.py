"""Lesson 07: conditional generator and projection discriminator, conditional training through the lesson-05 GAN,
label-aware metrics, the pretrained `cgan-mnist`, and `gan-lessons train/evaluate/sample` on conditional models."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons import pretrained
from gan_lessons.conditional import (balanced_labels, build_cgan, build_conditional_discriminator,
                                     build_conditional_generator, conditional_scores, digit_rows)
from gan_lessons.training import GAN, EpochSeededImages, fit_gan

SMALL_G, SMALL_D = dict(channels=(32, 16, 8)), dict(filters=(8, 16))


def test_conditional_networks_have_the_documented_shapes_and_use_the_label():
    generator, discriminator = build_conditional_generator(**SMALL_G), build_conditional_discriminator(**SMALL_D)
    noise = keras.random.normal((6, generator.latent_dim), seed=0)
    threes, sevens = (generator([noise, tf.fill((6,), digit)], training=False) for digit in (3, 7))
    assert threes.shape == (6, 28, 28, 1) and generator.num_classes == 10 and generator.latent_dim == 100
    assert not np.allclose(threes, sevens)
    logits = [discriminator([threes, tf.fill((6,), digit)]) for digit in (3, 7)]
    assert logits[0].shape == (6, 1) and logits[0].dtype == tf.float32 and not np.allclose(*logits)


def test_without_projection_weights_the_discriminator_ignores_the_label():
    discriminator = build_conditional_discriminator(**SMALL_D)
    projection = discriminator.get_layer("label_projection")
    projection.set_weights([np.zeros_like(weight) for weight in projection.get_weights()])
    images = tf.random.uniform((4, 28, 28, 1), -1, 1)
    np.testing.assert_allclose(discriminator([images, tf.fill((4,), 1)]), discriminator([images, tf.fill((4,), 8)]))


def test_epoch_seeded_batches_keep_each_label_with_its_image():
    labels = np.arange(100) % 10
    images = np.repeat((labels * 20).astype(np.uint8)[:, None, None], 28, axis=1).repeat(28, axis=2)  # pixel = 20·label
    data = EpochSeededImages(images, batch_size=32, seed=4, labels=labels)
    for batch_images, batch_labels in data.dataset:
        pixel = np.round((batch_images.numpy()[:, 0, 0, 0] * 127.5 + 127.5)).astype(int)
        np.testing.assert_array_equal(pixel, batch_labels.numpy() * 20)
    with pytest.raises(ValueError, match="one integer label per image"):
        EpochSeededImages(images, labels=labels[:-1])
    with pytest.raises(ValueError, match="one integer label per image"):
        EpochSeededImages(images, labels=labels.astype(float))


def test_conditional_gan_trains_both_networks_with_labels_and_refuses_images_alone(tmp_path):
    keras.utils.set_random_seed(0)
    gan = GAN(build_conditional_generator(**SMALL_G), build_conditional_discriminator(**SMALL_D), ema_decay=0.9,
              r1_weight=0.1)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    assert gan.conditional
    before = [variable.numpy().copy() for variable in gan.generator.trainable_variables
              + gan.discriminator.trainable_variables]
    images = np.random.default_rng(0).integers(0, 256, (96, 28, 28), dtype=np.uint8)
    labels = np.arange(96) % 10
    history = fit_gan(gan, images, labels=labels, epochs=1, out_dir=tmp_path / "run", batch_size=32, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])
    after = gan.generator.trainable_variables + gan.discriminator.trainable_variables
    assert all(not np.array_equal(old, new.numpy()) for old, new in zip(before, after)), "every weight should move"
    with pytest.raises(ValueError, match="needs labels"):
        fit_gan(gan, images, epochs=1, out_dir=tmp_path / "other", verbose=0)
    with pytest.raises(ValueError, match=r"\(images, labels\) batches"):
        gan.train_step(tf.zeros((4, 28, 28, 1)))


def test_conditional_scores_measure_label_agreement_and_refuse_mismatched_labels(mnist_metrics):
    from gan_lessons.data import scale_images

    metrics, train, heldout = mnist_metrics
    images, labels = scale_images(train.images[:1000]), train.labels[:1000]
    truthful = conditional_scores(metrics, images, labels, heldout.labels)
    shuffled = conditional_scores(metrics, images, np.random.default_rng(0).permutation(labels), heldout.labels)
    assert truthful["label_accuracy"] > 0.97 and shuffled["label_accuracy"] < 0.2
    assert len(truthful["per_class_fcd"]) == 10 and all(np.isfinite(truthful["per_class_fcd"]))
    # asking every image to be a 0 puts nine digits' worth of wrong images into class 0's FCD
    wrong = conditional_scores(metrics, images, np.zeros_like(labels), heldout.labels)
    assert wrong["per_class_fcd"][0] > 3 * truthful["per_class_fcd"][0]
    with pytest.raises(ValueError, match="one label per image"):
        conditional_scores(metrics, images[:10], labels[:9], heldout.labels)


def test_grid_helpers_ask_for_every_digit():
    noise, labels = digit_rows(per_row=4, seed=1)
    assert noise.shape == (40, 100) and np.array_equal(np.asarray(labels)[:8], [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(noise[:4], noise[4:8])
    assert np.bincount(balanced_labels(25), minlength=10).tolist() == [3] * 5 + [2] * 5


def test_pretrained_cgan_follows_the_contract_and_draws_the_digit_asked_for(mnist_metrics):
    metrics, _, heldout = mnist_metrics
    generator = pretrained.load("cgan-mnist")
    assert generator.latent_dim == 100 and generator.num_classes == 10
    labels = balanced_labels(500)
    images = generator([keras.random.normal((500, 100), seed=2), tf.constant(labels)], training=False).numpy()
    assert images.shape == (500, 28, 28, 1) and images.min() >= -1 and images.max() <= 1
    assert conditional_scores(metrics, images, labels, heldout.labels)["label_accuracy"] >= 0.97


def test_command_line_trains_resumes_samples_and_evaluates_a_conditional_gan(with_data, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = ["--images", "256", "--recipe", "fast"]
    assert run_cli(["train", "cgan", "--out", "run", "--epochs", "1", *small])[0] == 0
    code, out, _ = run_cli(["train", "cgan", "--out", "run", "--epochs", "2", *small])
    assert code == 0 and "resuming after epoch 1 of 2" in out
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["model"] == "cgan" and record["command"].startswith("gan-lessons train cgan")
    code, _, err = run_cli(["train", "dcgan", "--out", "run", "--epochs", "3", *small])
    assert code == 2 and "holds a different run" in err
    code, out, _ = run_cli(["evaluate", "run", "--n", "200", "--json"])
    report = json.loads(out)
    assert code == 0 and 0 <= report["label_accuracy"] <= 1 and len(report["per_class_fcd"]) == 10
    code, out, _ = run_cli(["sample", "run", "--n", "20", "--out", "grid.png"])
    from PIL import Image
    assert code == 0 and Image.open(tmp_path / "grid.png").size == (2 * (10 * 29 + 1), 2 * (2 * 29 + 1))  # 10 columns
    code, out, _ = run_cli(["evaluate", "dcgan-mnist", "--n", "200", "--json"])
    assert code == 0 and "label_accuracy" not in json.loads(out)
