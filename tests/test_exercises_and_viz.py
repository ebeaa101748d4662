import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.exercises import (ExerciseError, check_field_of, check_stack_output_size, check_to_uint8,
                                   check_two_noise_batches)
from gan_lessons.discriminator import receptive_field
from gan_lessons.generator import conv_transpose_output_size
from gan_lessons.viz import image_grid, save_image_grid


def reference_noise(seed):
    keras.utils.set_random_seed(seed)
    return tf.random.normal((16, 100)), tf.random.normal((16, 100))


def test_noise_checker():
    assert check_two_noise_batches(reference_noise)
    assert check_two_noise_batches(lambda seed: None) is False
    with pytest.raises(ExerciseError, match="both batches are identical"):
        check_two_noise_batches(lambda seed: (tf.random.stateless_normal((16, 100), (seed, 0)),) * 2)
    with pytest.raises(ExerciseError, match="same seed gave different numbers"):
        check_two_noise_batches(lambda seed: (tf.random.normal((16, 100)), tf.random.normal((16, 100))))
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
    textbook = lambda size, specs: [size := (size * s if p == "same" else (size - 1) * s + k) for k, s, p in specs][-1] if specs else size
    with pytest.raises(ExerciseError, match=r"max\(k, s\)"):
        check_stack_output_size(textbook)
    with pytest.raises(ExerciseError, match="off by"):
        check_stack_output_size(lambda size, specs: size * 2 ** len(specs))


def test_field_of_checker():
    assert check_field_of(lambda specs: receptive_field([k for k, _ in specs], [s for _, s in specs]))
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
    assert Image.open(path).size == (2 * 29 + 1, 2 * 29 + 1) and not list(tmp_path.glob("*.partial"))


def test_input_and_target_checker():
    from gan_lessons.exercises import check_input_and_target

    assert check_input_and_target(lambda chunk: (chunk[:-1], chunk[1:]))
    assert check_input_and_target(lambda chunk: None) is False
    for wrong, message in ((lambda chunk: (chunk, chunk), "same ids"),
                           (lambda chunk: (chunk[1:], chunk[:-1]), "wrong way"),
                           (lambda chunk: (chunk[:-2], chunk[2:]), r"expected \(10,\)"),
                           (lambda chunk: chunk[:-1], "expected a pair")):
        with pytest.raises(ExerciseError, match=message):
            check_input_and_target(wrong)
