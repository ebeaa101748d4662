"""Lesson 08: conditional generator and projection discriminator, conditional training through the
lesson-05 GAN, label-aware metrics, the pretrained `cgan-mnist`, `gan-lessons train/evaluate/sample`
on conditional models, and self-conditioning (k-means clusters as labels, the cluster drawn from the
noise)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons import pretrained
from gan_lessons.conditional import (
    ClusterCode,
    balanced_labels,
    build_conditional_discriminator,
    build_conditional_generator,
    cluster_majorities,
    cluster_purity,
    clustered_generator,
    conditional_scores,
    deskew,
    digit_rows,
    kmeans_clusters,
    stray_shares,
    strongest_pull,
)
from gan_lessons.recipes import R1Penalty, WeightAverage
from gan_lessons.training import GAN, EpochSeededImages, fit_gan

SMALL_G, SMALL_D = dict(channels=(32, 16, 8)), dict(filters=(8, 16))


def test_conditional_networks_have_the_documented_shapes_and_use_the_label():
    generator, discriminator = (
        build_conditional_generator(**SMALL_G),
        build_conditional_discriminator(**SMALL_D),
    )
    noise = keras.random.normal((6, generator.latent_dim), seed=0)
    threes, sevens = (generator([noise, tf.fill((6,), digit)], training=False) for digit in (3, 7))
    assert (
        threes.shape == (6, 28, 28, 1)
        and generator.num_classes == 10
        and generator.latent_dim == 100
    )
    assert not np.allclose(threes, sevens)
    logits = [discriminator([threes, tf.fill((6,), digit)]) for digit in (3, 7)]
    assert logits[0].shape == (6, 1) and logits[0].dtype == tf.float32 and not np.allclose(*logits)


def test_without_projection_weights_the_discriminator_ignores_the_label():
    discriminator = build_conditional_discriminator(**SMALL_D)
    projection = discriminator.get_layer("label_projection")
    projection.set_weights([np.zeros_like(weight) for weight in projection.get_weights()])
    images = tf.random.uniform((4, 28, 28, 1), -1, 1)
    np.testing.assert_allclose(
        discriminator([images, tf.fill((4,), 1)]), discriminator([images, tf.fill((4,), 8)])
    )


def test_epoch_seeded_batches_keep_each_label_with_its_image():
    labels = np.arange(100) % 10
    images = np.repeat((labels * 20).astype(np.uint8)[:, None, None], 28, axis=1).repeat(
        28, axis=2
    )  # pixel = 20·label
    data = EpochSeededImages(images, batch_size=32, seed=4, labels=labels)
    for batch_images, batch_labels in data.dataset:
        pixel = np.round(batch_images.numpy()[:, 0, 0, 0] * 127.5 + 127.5).astype(int)
        np.testing.assert_array_equal(pixel, batch_labels.numpy() * 20)
    with pytest.raises(ValueError, match="one integer label per image"):
        EpochSeededImages(images, labels=labels[:-1])
    with pytest.raises(ValueError, match="one integer label per image"):
        EpochSeededImages(images, labels=labels.astype(float))


def test_conditional_gan_trains_both_networks_with_labels_and_refuses_images_alone(tmp_path):
    keras.utils.set_random_seed(0)
    gan = GAN(
        build_conditional_generator(**SMALL_G),
        build_conditional_discriminator(**SMALL_D),
        options=[R1Penalty(0.1), WeightAverage(0.9)],
    )
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    assert gan.conditional
    before = [
        variable.numpy().copy()
        for variable in gan.generator.trainable_variables + gan.discriminator.trainable_variables
    ]
    images = np.random.default_rng(0).integers(0, 256, (96, 28, 28), dtype=np.uint8)
    labels = np.arange(96) % 10
    history = fit_gan(
        gan, images, labels=labels, epochs=1, out_dir=tmp_path / "run", batch_size=32, verbose=0
    )
    assert np.isfinite(history.history["d_loss"][-1])
    after = gan.generator.trainable_variables + gan.discriminator.trainable_variables
    assert all(not np.array_equal(old, new.numpy()) for old, new in zip(before, after)), (
        "every weight should move"
    )
    with pytest.raises(ValueError, match="needs labels"):
        fit_gan(gan, images, epochs=1, out_dir=tmp_path / "other", verbose=0)
    with pytest.raises(ValueError, match=r"\(images, labels\) batches"):
        gan.train_step(tf.zeros((4, 28, 28, 1)))


def test_conditional_scores_measure_label_agreement_and_refuse_mismatched_labels(mnist_metrics):
    from gan_lessons.data import scale_images

    metrics, train, heldout = mnist_metrics
    images, labels = scale_images(train.images[:1000]), train.labels[:1000]
    truthful = conditional_scores(metrics, images, labels, heldout.labels)
    shuffled = conditional_scores(
        metrics, images, np.random.default_rng(0).permutation(labels), heldout.labels
    )
    assert truthful["label_accuracy"] > 0.97 and shuffled["label_accuracy"] < 0.2
    assert len(truthful["per_class_fcd"]) == 10 and all(np.isfinite(truthful["per_class_fcd"]))
    # asking every image to be a 0 puts nine digits' worth of wrong images into class 0's FCD
    wrong = conditional_scores(metrics, images, np.zeros_like(labels), heldout.labels)
    assert wrong["per_class_fcd"][0] > 3 * truthful["per_class_fcd"][0]
    with pytest.raises(ValueError, match="one label per image"):
        conditional_scores(metrics, images[:10], labels[:9], heldout.labels)


def test_grid_helpers_ask_for_every_digit():
    noise, labels = digit_rows(per_row=4, seed=1)
    assert noise.shape == (40, 100) and np.array_equal(
        np.asarray(labels)[:8], [0, 0, 0, 0, 1, 1, 1, 1]
    )
    np.testing.assert_array_equal(noise[:4], noise[4:8])
    assert np.bincount(balanced_labels(25), minlength=10).tolist() == [3] * 5 + [2] * 5


def test_pretrained_cgan_follows_the_contract_and_draws_the_digit_asked_for(mnist_metrics):
    metrics, _, heldout = mnist_metrics
    generator = pretrained.load("cgan-mnist")
    assert generator.latent_dim == 100 and generator.num_classes == 10
    labels = balanced_labels(500)
    images = generator(
        [keras.random.normal((500, 100), seed=2), tf.constant(labels)], training=False
    ).numpy()
    assert images.shape == (500, 28, 28, 1) and images.min() >= -1 and images.max() <= 1
    assert conditional_scores(metrics, images, labels, heldout.labels)["label_accuracy"] >= 0.97


@pytest.mark.slow  # trains, resumes, samples and evaluates a cgan
def test_command_line_trains_resumes_samples_and_evaluates_a_conditional_gan(
    with_data, tmp_path, run_cli, monkeypatch
):
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

    assert code == 0 and Image.open(tmp_path / "grid.png").size == (
        2 * (10 * 29 + 1),
        2 * (2 * 29 + 1),
    )  # 10 columns
    code, out, _ = run_cli(["evaluate", "dcgan-mnist", "--n", "200", "--json"])
    assert code == 0 and "label_accuracy" not in json.loads(out)


def test_kmeans_recovers_separated_groups_deterministically_and_refuses_impossible_counts():
    rng = np.random.default_rng(0)
    offsets = np.repeat(np.array([[12.0, 0, 0], [-12.0, 0, 0], [0, 12.0, 0]]), 100, axis=0)
    points = rng.normal(size=(300, 3)) + offsets
    assignments, centroids = kmeans_clusters(points, 3, seed=1)
    groups = np.repeat(np.arange(3), 100)
    assert cluster_purity(assignments, groups) == 1.0
    assert (
        all(len(set(assignments[groups == group])) == 1 for group in range(3))
        and len(set(assignments)) == 3
    )
    for cluster in range(3):  # each centre is the mean of its members
        assert np.allclose(
            centroids[cluster], points[assignments == cluster].mean(axis=0), atol=1e-4
        )
    assert np.array_equal(assignments, kmeans_clusters(points, 3, seed=1)[0])
    with pytest.raises(ValueError, match="4 clusters of 1 distinct images"):
        kmeans_clusters(np.zeros((10, 2)), 4)  # every cluster must have members
    for count in (0, 301):
        with pytest.raises(ValueError, match="between 1 and 300"):
            kmeans_clusters(points, count)


def test_kmeans_clusters_of_real_digits_are_far_purer_than_chance(with_data):
    from gan_lessons.data import load_mnist, scale_images

    train = load_mnist("train", fallback=False, verbose=False)
    images, labels = scale_images(train.images[:2000]), train.labels[:2000]
    assignments, _ = kmeans_clusters(images, 20, seed=0)
    purity = cluster_purity(assignments, labels)
    assert purity > 0.6, purity  # the most common digit alone is ≈ 0.11
    assert (
        cluster_purity(np.zeros(2000, "int32"), labels) < 0.15
    )  # one cluster: the most common digit's share
    with pytest.raises(ValueError, match="one label per assignment"):
        cluster_purity(assignments[:10], labels)


def slanted_bar(lean: float, column: int = 14) -> np.ndarray:
    "A one-pixel bar, rows 6–21, whose column moves `lean` per row: an image in [-1, 1]."
    image = -np.ones((28, 28, 1), "float32")
    for row in range(6, 22):
        image[row, int(round(column + lean * (row - 13.5))), 0] = 1.0
    return image


def ink_columns(image) -> np.ndarray:
    return np.flatnonzero((np.asarray(image)[..., 0] > 0).any(axis=0))


def test_deskew_makes_slanted_strokes_upright_and_keeps_shape_range_and_blank_images():
    bars = np.stack([slanted_bar(lean) for lean in (-0.5, -0.25, 0.25, 0.5)])
    upright = deskew(bars)
    assert upright.shape == bars.shape and upright.dtype == np.float32
    assert upright.min() >= -1 and upright.max() <= 1
    for before, after in zip(bars, upright):
        assert len(ink_columns(before)) >= 4 and len(ink_columns(after)) <= 2
        assert set(ink_columns(after)) <= {13, 14}, "the ink's centre moves to the middle column"
    straight = slanted_bar(0.0, column=9)  # upright already: only moved to the middle
    assert set(ink_columns(deskew(straight[None])[0])) <= {13, 14}
    assert np.array_equal(deskew(-np.ones((2, 28, 28), "float32")), -np.ones((2, 28, 28)))
    assert np.allclose(deskew(bars, batch_size=3), upright), "batches change nothing"
    with pytest.raises(ValueError, match="grey images"):
        deskew(np.zeros((2, 28, 28, 3)))


def test_stray_shares_count_each_label_sitting_in_another_labels_cluster():
    assignments = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    labels = np.array([4, 4, 9, 9, 9, 4, 7, 7])
    assert cluster_majorities(assignments, labels).tolist() == [4, 4, 4, 9, 9, 9, 7, 7]
    shares = stray_shares(assignments, labels)
    assert np.isclose(shares[4], 1 / 3) and np.isclose(shares[9], 1 / 3) and shares[7] == 0
    assert shares[0] == 0 and len(shares) == 10  # no 0s at all: none strayed
    assert (
        strongest_pull(assignments, labels, 4) == 9 and strongest_pull(assignments, labels, 9) == 4
    )


def test_deskewed_clusters_of_real_digits_are_purer_and_keep_fours_apart_from_nines(with_data):
    from gan_lessons.data import load_mnist, scale_images

    train = load_mnist("train", fallback=False, verbose=False)
    images, labels = scale_images(train.images), train.labels
    pixels, _ = kmeans_clusters(images, 50, seed=0)
    deskewed, _ = kmeans_clusters(deskew(images), 50, seed=0)
    assert cluster_purity(deskewed, labels) > cluster_purity(pixels, labels) + 0.04
    pixel_strays, deskewed_strays = stray_shares(pixels, labels), stray_shares(deskewed, labels)
    assert pixel_strays.argmax() == 4 and strongest_pull(pixels, labels, 4) == 9
    assert deskewed_strays[4] < pixel_strays[4] - 0.1


def test_cluster_code_draws_codes_in_proportion_and_leaves_standard_normal_noise():
    shares = np.array([0.5, 0.3, 0.15, 0.05])
    noise = keras.random.normal((40000, 6), seed=1)
    coded, codes = (np.asarray(part) for part in ClusterCode(shares)(noise))
    assert (
        codes.dtype == np.int32
        and np.abs(np.bincount(codes, minlength=4) / len(codes) - shares).max() < 0.01
    )
    assert np.array_equal(coded[:, 1:], np.asarray(noise)[:, 1:])
    for code in range(4):  # the replaced coordinate carries no trace of the code
        assert (
            abs(coded[codes == code, 0].mean()) < 0.1
            and abs(coded[codes == code, 0].std() - 1) < 0.1
        )
    assert np.isfinite(coded).all()
    again_coded, again_codes = ClusterCode(shares * 7)(noise)  # proportions are normalised
    assert np.array_equal(again_codes, codes) and np.allclose(again_coded, coded)
    for bad in ([], [0.5, 0.0, 0.5], [[0.5, 0.5]]):
        with pytest.raises(ValueError, match="positive cluster proportions"):
            ClusterCode(bad)


def test_a_clustered_generator_takes_noise_only_and_survives_a_keras_file(tmp_path):
    generator = clustered_generator(
        build_conditional_generator(num_classes=5, **SMALL_G), [1, 2, 3, 2, 1]
    )
    noise = keras.random.normal((6, 100), seed=3)
    images = generator(noise, training=False).numpy()
    assert (
        len(generator.inputs) == 1
        and generator.latent_dim == 100
        and images.shape == (6, 28, 28, 1)
    )
    generator.save(tmp_path / "clustered.keras")
    loaded = pretrained.load(tmp_path / "clustered.keras")
    assert loaded.latent_dim == 100 and not hasattr(loaded, "num_classes")
    assert np.allclose(loaded(noise, training=False), images, atol=1e-6)


@pytest.mark.slow  # clusters MNIST and trains a self-conditioned DCGAN twice
def test_command_line_self_conditions_a_dcgan_on_clusters_and_resumes_on_the_same_clusters(
    with_data, tmp_path, run_cli, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    small = ["--images", "256", "--recipe", "fast", "--clusters", "4"]
    assert run_cli(["train", "dcgan", "--out", "run", "--epochs", "1", *small])[0] == 0
    clusters = json.loads((tmp_path / "run" / "clusters.json").read_text())
    assert clusters["count"] == 4 and len(clusters["assignments"]) == 256
    assert clusters["features"] == "deskewed"
    code, out, _ = run_cli(["train", "dcgan", "--out", "run", "--epochs", "2", *small])
    assert code == 0 and "resuming after epoch 1 of 2" in out
    assert json.loads((tmp_path / "run" / "clusters.json").read_text()) == clusters
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "--clusters 4 " in record["command"] and sum(record["cluster_sizes"]) == 256
    code, out, _ = run_cli(["evaluate", "run", "--n", "200", "--json"])
    assert code == 0 and "label_accuracy" not in json.loads(out)  # an unconditional generator
    code, _, err = run_cli(
        ["train", "dcgan", "--out", "run", "--epochs", "3", "--images", "256", "--clusters", "5"]
    )
    assert code == 2 and "holds a different run" in err
    code, _, err = run_cli(["train", "cgan", "--out", "other", "--clusters", "4"])
    assert code == 2 and "--clusters does not apply to cgan" in err
    code, _, err = run_cli(
        ["train", "dcgan", "--out", "other", "--images", "256", "--clusters", "300"]
    )
    assert code == 2 and "more than the 256 training images" in err
    assert not (tmp_path / "other").exists(), "a refused command writes nothing"
    pixels = ["--epochs", "1", *small, "--cluster-on", "pixels"]
    assert run_cli(["train", "dcgan", "--out", "pixels", *pixels])[0] == 0
    on_pixels = json.loads((tmp_path / "pixels" / "clusters.json").read_text())
    assert on_pixels["features"] == "pixels" and on_pixels["assignments"] != clusters["assignments"]
    record = json.loads((tmp_path / "pixels" / "run.json").read_text())
    assert "--cluster-on pixels" in record["command"]
    code, _, err = run_cli(["train", "dcgan", "--out", "pixels", *small, "--epochs", "2"])
    assert code == 2 and "holds a different run" in err, "a pixel run resumes only as one"


def test_the_default_of_train_dcgan_is_the_best_five_minute_variant_of_the_saved_search():
    """`default_clusters` and the recipe search's rows name the same variant, which has the highest
    score at the last checkpoint and a narrower range of digit shares than pixel clusters."""
    from gan_lessons.conditional import default_clusters

    rows = pretrained.benchmark_rows("recipe_search.jsonl")
    last = {row["name"]: row for row in rows}  # rows come in checkpoint order
    default = last[
        f"fast, self-conditioned ({default_clusters({'recipe': 'fast'})} deskewed clusters)"
    ]
    assert max(last.values(), key=lambda row: row["classifier_score"]) is default
    pixels = last["fast, self-conditioned (50 clusters)"]
    assert default["min_class"] > pixels["min_class"] and default["max_class"] < pixels["max_class"]
