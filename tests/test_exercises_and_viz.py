import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.discriminator import receptive_field
from gan_lessons.exercises import ExerciseError
from gan_lessons.exercises_foundations import (
    check_field_of,
    check_stack_output_size,
    check_to_uint8,
    check_two_noise_batches,
)
from gan_lessons.generator import conv_transpose_output_size
from gan_lessons.viz import image_grid, save_image_grid


def reference_noise(seed):
    keras.utils.set_random_seed(seed)
    return tf.random.normal((16, 100)), tf.random.normal((16, 100))


def test_noise_checker():
    assert check_two_noise_batches(reference_noise)
    assert check_two_noise_batches(lambda seed: None) is False
    with pytest.raises(ExerciseError, match="both batches are identical"):
        check_two_noise_batches(
            lambda seed: (tf.random.stateless_normal((16, 100), (seed, 0)),) * 2
        )
    with pytest.raises(ExerciseError, match="same seed gave different numbers"):
        check_two_noise_batches(
            lambda seed: (tf.random.normal((16, 100)), tf.random.normal((16, 100)))
        )
    with pytest.raises(ExerciseError, match=r"shape \(100, 16\), expected \(16, 100\)"):
        check_two_noise_batches(lambda seed: tuple(tf.transpose(t) for t in reference_noise(seed)))


def reference_to_uint8(scaled):
    return np.clip(np.round((np.asarray(scaled)[..., 0] + 1.0) * 127.5), 0, 255).astype(np.uint8)


def test_to_uint8_checker():
    assert check_to_uint8(reference_to_uint8)
    with pytest.raises(ExerciseError, match="must be clipped"):
        check_to_uint8(lambda x: np.round((x[..., 0] + 1) * 127.5).astype(np.uint8))
    with pytest.raises(ExerciseError, match="round to the nearest level"):
        check_to_uint8(lambda x: np.clip((x[..., 0] + 1) * 127.5, 0, 255).astype(np.uint8))
    with pytest.raises(ExerciseError, match="drop the channel axis"):
        check_to_uint8(lambda x: np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8))
    with pytest.raises(ExerciseError, match="dtype float"):
        check_to_uint8(lambda x: np.clip(np.round((x[..., 0] + 1) * 127.5), 0, 255))


def test_stack_output_size_checker():
    def reference(size, specs):
        for kernel, stride, padding in specs:
            size = conv_transpose_output_size(size, kernel, stride, padding)
        return size

    assert check_stack_output_size(reference)
    textbook = lambda size, specs: (
        [size := (size * s if p == "same" else (size - 1) * s + k) for k, s, p in specs][-1]
        if specs
        else size
    )
    with pytest.raises(ExerciseError, match=r"max\(k, s\)"):
        check_stack_output_size(textbook)
    with pytest.raises(ExerciseError, match="off by"):
        check_stack_output_size(lambda size, specs: size * 2 ** len(specs))


def test_field_of_checker():
    assert check_field_of(
        lambda specs: receptive_field([k for k, _ in specs], [s for _, s in specs])
    )
    with pytest.raises(ExerciseError, match="ignored the strides"):
        check_field_of(lambda specs: 1 + sum(k - 1 for k, _ in specs))
    with pytest.raises(ExerciseError, match="double-counts"):
        check_field_of(lambda specs: sum(k for k, _ in specs))


def test_image_grid_layout_and_range():
    images = np.linspace(-1, 1, 6 * 4 * 5).reshape(6, 4, 5, 1)
    grid = image_grid(images, ncols=4, padding=1)
    assert grid.shape == (2 * 5 + 1, 4 * 6 + 1) and grid.min() >= 0 and grid.max() <= 1
    np.testing.assert_allclose(grid[1:5, 1:6], (images[0, ..., 0] + 1) / 2, rtol=1e-6)
    with pytest.raises(ValueError, match="non-empty batch"):
        image_grid(np.zeros((0, 28, 28)))


def test_save_image_grid_writes_a_png_and_no_partial_file(tmp_path):
    from PIL import Image

    path = save_image_grid(np.zeros((4, 28, 28, 1)), tmp_path / "grid.png", upscale=1)
    assert Image.open(path).size == (2 * 29 + 1, 2 * 29 + 1) and not list(
        tmp_path.glob("*.partial")
    )


def test_input_and_target_checker():
    from gan_lessons.exercises_beyond import check_input_and_target

    assert check_input_and_target(lambda chunk: (chunk[:-1], chunk[1:]))
    assert check_input_and_target(lambda chunk: None) is False
    for wrong, message in (
        (lambda chunk: (chunk, chunk), "same ids"),
        (lambda chunk: (chunk[1:], chunk[:-1]), "wrong way"),
        (lambda chunk: (chunk[:-2], chunk[2:]), r"expected \(10,\)"),
        (lambda chunk: chunk[:-1], "expected a pair"),
    ):
        with pytest.raises(ExerciseError, match=message):
            check_input_and_target(wrong)


def test_frechet_distance_checker_names_each_typical_mistake():
    from gan_lessons.evaluation import frechet_distance
    from gan_lessons.exercises_training import _symmetric_root, check_frechet_distance

    def distance(mean_a, cov_a, mean_b, cov_b, mean_power=2, factor=2, root=None):
        "The Fréchet distance, or (with the options) one of the usual slips in writing it."
        root_a = _symmetric_root(cov_a)
        cross = (
            np.sum(np.sqrt(np.linalg.eigvalsh(root_a @ cov_b @ root_a)))
            if root is None
            else root(cov_a, cov_b)
        )
        mean_term = 0.0 if mean_power == 0 else np.sum((mean_a - mean_b) ** 2) ** (mean_power / 2)
        return mean_term + np.trace(cov_a) + np.trace(cov_b) - factor * cross

    assert check_frechet_distance(frechet_distance) and check_frechet_distance(distance)
    assert check_frechet_distance(lambda *args: None) is False
    for wrong, message in [
        (lambda *a: distance(*a, mean_power=0), "mean term"),
        (lambda *a: distance(*a, factor=1), "factor 2"),
        (lambda *a: distance(*a, mean_power=1), "without squaring"),
        (
            lambda *a: distance(*a, root=lambda x, y: np.trace(np.sqrt(np.abs(x @ y)))),
            "element-wise",
        ),
        (
            lambda *a: distance(
                *a, root=lambda x, y: np.trace(_symmetric_root(x) @ _symmetric_root(y))
            ),
            "commute",
        ),
        (lambda *a: complex(distance(*a), 0.5), "complex"),
    ]:
        with pytest.raises(ExerciseError, match=message):
            check_frechet_distance(wrong)


def test_balanced_labels_checker():
    from gan_lessons.conditional import balanced_labels
    from gan_lessons.exercises_variations import check_balanced_labels

    assert check_balanced_labels(lambda count, classes: np.arange(count) % classes)
    assert check_balanced_labels(lambda count, classes: np.asarray(balanced_labels(count, classes)))
    for wrong, message in [
        (
            lambda count, classes: np.random.default_rng(0).integers(0, classes, count),
            "not balanced",
        ),
        (lambda count, classes: np.arange(count) % classes + 1, "1–10"),
        (lambda count, classes: (np.arange(count) % classes).astype(float), "integers"),
        (lambda count, classes: np.arange(count)[:classes] % classes, "shape"),
    ]:
        with pytest.raises(ExerciseError, match=message):
            check_balanced_labels(wrong)


def test_interpolates_checker():
    from gan_lessons.exercises_variations import check_interpolates

    def interpolates(real, fake, seed, draw=tf.random.uniform, shape=lambda n: (n, 1, 1, 1)):
        epsilon = draw(shape(tf.shape(real)[0]), seed=seed)
        return epsilon * real + (1 - epsilon) * fake

    assert check_interpolates(interpolates)
    for wrong, message in [
        (lambda r, f, s: interpolates(r, f, s, draw=tf.random.normal), "uniform distribution"),
        (lambda r, f, s: interpolates(r, f, s, shape=lambda n: tf.shape(r)), "one ε per image"),
        (lambda r, f, s: interpolates(r, f, s, shape=lambda n: (1, 1, 1, 1)), "the same ε"),
    ]:
        with pytest.raises(ExerciseError, match=message):
            check_interpolates(wrong)


def test_discriminator_accuracy_checker():
    from gan_lessons.exercises_variations import check_discriminator_accuracy

    assert check_discriminator_accuracy(lambda real, fake: (np.mean(real > 0), np.mean(fake < 0)))
    for wrong, message in [
        (lambda real, fake: (np.mean(real > 0.5), np.mean(fake < 0.5)), "threshold is 0"),
        (lambda real, fake: (np.sum(real > 0), np.sum(fake < 0)), "divide by the number"),
        (lambda real, fake: np.mean(np.concatenate([real > 0, fake < 0])), "two"),
        (lambda real, fake: (np.mean(real < 0), np.mean(fake > 0)), "above 0"),
    ]:
        with pytest.raises(ExerciseError, match=message):
            check_discriminator_accuracy(wrong)


def test_generator_loss_checker():
    from gan_lessons.exercises_training import check_generator_loss

    assert check_generator_loss(lambda logits: tf.reduce_mean(tf.nn.softplus(-logits)))
    # not attempted yet: no error, no pass
    assert check_generator_loss(lambda logits: None) is False
    for wrong, message in [
        (lambda x: tf.reduce_mean(-tf.nn.softplus(x)), "minimax loss"),
        (lambda x: -tf.reduce_mean(tf.nn.softplus(-x)), "sign is flipped"),
        (lambda x: tf.reduce_mean(tf.nn.softplus(-tf.sigmoid(x))), "double sigmoid"),
        (lambda x: tf.nn.softplus(-x), "expected a scalar"),
        (lambda x: -tf.reduce_mean(tf.math.log(tf.sigmoid(x))), "underflows; use softplus"),
    ]:
        with pytest.raises(ExerciseError, match=message):
            check_generator_loss(wrong)


def test_noise_like_checker():
    from gan_lessons.exercises_training import check_noise_like

    assert check_noise_like(
        lambda images, latent_dim: tf.random.normal((tf.shape(images)[0], latent_dim))
    )
    for wrong, message in [
        (
            lambda images, d: tf.random.normal((images.shape[0], d)),
            r"use tf.shape\(real_images\)\[0\]",
        ),
        (lambda images, d: tf.random.normal((64, d)), r"expected \(5, 100\)"),
        (
            lambda images, d: tf.random.uniform((tf.shape(images)[0], d)),
            "expected a standard normal",
        ),
    ]:
        with pytest.raises(ExerciseError, match=message):
            check_noise_like(wrong)
