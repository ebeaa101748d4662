import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.discriminator import build_discriminator, multiply_adds, receptive_field
from gan_lessons.generator import (
    STYLES,
    build_generator,
    build_generator_1d,
    conv_transpose_output_size,
    generator_layers,
    sample_latent,
    stack_layers,
)


@pytest.mark.parametrize(
    "size, kernel, stride, padding, output_padding",
    [
        case
        for case in itertools.product(
            (1, 4, 7), (1, 2, 3, 5), (1, 2, 3), ("same", "valid"), (None, 0, 1)
        )
        if case[4] is None or case[4] < case[2]  # Keras requires output_padding < stride
    ],
)
def test_output_size_formula_matches_keras_layers(size, kernel, stride, padding, output_padding):
    expected = conv_transpose_output_size(size, kernel, stride, padding, output_padding)
    try:
        two_d = keras.layers.Conv2DTranspose(
            1, kernel, strides=stride, padding=padding, output_padding=output_padding
        )
        one_d = keras.layers.Conv1DTranspose(
            1, kernel, strides=stride, padding=padding, output_padding=output_padding
        )
    except ValueError as error:
        if output_padding == 0 and "output_padding" in str(
            error
        ):  # older Keras 3 versions reject 0
            pytest.skip(f"Keras {keras.__version__} refuses output_padding=0")
        raise
    assert tuple(two_d.compute_output_shape((None, size, size, 2))[1:3]) == (expected, expected)
    assert one_d.compute_output_shape((None, size, 2))[1] == expected


def test_output_size_formula_agrees_with_an_actual_forward_pass():
    layer = keras.layers.Conv2DTranspose(1, 1, strides=2, padding="valid")
    assert (
        layer(tf.zeros((1, 7, 7, 1))).shape[1] == conv_transpose_output_size(7, 1, 2, "valid") == 14
    )
    with pytest.raises(ValueError, match="padding must be"):
        conv_transpose_output_size(7, 5, 2, "full")


def _assert_same_model(builder, input_shape):
    models = {style: builder(style) for style in STYLES}
    shapes = {
        style: tuple(model(tf.zeros((2, *input_shape)), training=False).shape)
        for style, model in models.items()
    }
    counts = {style: model.count_params() for style, model in models.items()}
    assert len(set(shapes.values())) == 1, f"styles disagree on output shape: {shapes}"
    assert len(set(counts.values())) == 1, f"styles disagree on parameter count: {counts}"
    weights = models["functional"].get_weights()
    inputs = tf.random.stateless_normal((4, *input_shape), seed=(1, 2))
    reference = models["functional"](inputs, training=False)
    for style in ("sequential", "subclassed"):
        models[style].set_weights(weights)
        np.testing.assert_allclose(models[style](inputs, training=False), reference, atol=1e-5)
    return models, shapes["functional"], counts["functional"]


def test_three_generator_styles_are_one_model():
    models, shape, count = _assert_same_model(build_generator, (100,))
    assert shape == (2, 28, 28, 1) and count == 2_330_945
    assert all(model.latent_dim == 100 for model in models.values())


def test_three_discriminator_styles_are_one_model():
    _, shape, count = _assert_same_model(build_discriminator, (28, 28, 1))
    assert shape == (2, 1) and count == 212_865


def test_three_1d_generator_styles_are_one_model():
    _, shape, _ = _assert_same_model(
        lambda style: build_generator_1d(style, length=1024, strides=(4, 4, 4, 4)), (100,)
    )
    length = 1024 // 256
    for _ in range(4):
        length = conv_transpose_output_size(length, 25, 4)
    assert shape == (2, length, 1) == (2, 1024, 1)


def test_generator_output_is_in_tanh_range_and_configurable():
    images = build_generator(start_size=8, image_size=32, image_channels=3)(
        sample_latent(3, seed=0), training=False
    )
    assert images.shape == (3, 32, 32, 3) and np.abs(images.numpy()).max() <= 1.0
    with pytest.raises(ValueError, match="gives 56×56 images, not 28×28"):
        generator_layers(strides=(2, 2, 2))
    with pytest.raises(ValueError, match="not a multiple of the total stride"):
        build_generator_1d(length=1000)
    with pytest.raises(ValueError, match="style must be one of"):
        stack_layers(generator_layers(), (100,), "lambda")


def test_batch_norm_in_training_mode_collapses_a_batch_of_one():
    generator = build_generator()
    one = generator(sample_latent(1, seed=1), training=True)
    other = generator(sample_latent(1, seed=2), training=True)
    assert float(tf.reduce_max(tf.abs(one - other))) < 1e-5
    pair = generator(
        tf.concat([sample_latent(1, seed=1), sample_latent(1, seed=2)], 0), training=False
    )
    assert float(tf.reduce_max(tf.abs(pair[0] - pair[1]))) > 1e-3


def test_sample_latent_is_standard_normal_and_seeded():
    z = sample_latent(5000, seed=3)
    assert (
        z.shape == (5000, 100)
        and abs(float(tf.reduce_mean(z))) < 0.01
        and abs(float(tf.math.reduce_std(z)) - 1) < 0.01
    )
    assert np.array_equal(sample_latent(2, seed=4), sample_latent(2, seed=4))
    with pytest.raises(ValueError):
        sample_latent(0)


def _measured_field(kernel_sizes, strides, size=96):
    model = keras.Sequential(
        [keras.Input((size, size, 1))]
        + [
            keras.layers.Conv2D(1, k, strides=s, padding="same", kernel_initializer="ones")
            for k, s in zip(kernel_sizes, strides)
        ]
    )
    image = tf.ones((1, size, size, 1))
    with tf.GradientTape() as tape:
        tape.watch(image)
        out = model(image)
        centre = out.shape[1] // 2
        unit = out[0, centre, centre, 0]
    touched = np.nonzero(tape.gradient(unit, image)[0, :, :, 0].numpy().sum(axis=1))[0]
    return int(touched.max() - touched.min() + 1)


@pytest.mark.parametrize(
    "kernels, strides",
    [([5, 5], [2, 2]), ([3, 3, 3], [1, 1, 1]), ([4, 4, 4], [2, 2, 2]), ([3, 5], [2, 1])],
)
def test_receptive_field_matches_a_gradient_measurement(kernels, strides):
    assert receptive_field(kernels, strides) == _measured_field(kernels, strides)


def test_multiply_adds_match_a_hand_count():
    generator, discriminator = build_generator(), build_discriminator()
    hand_generator = 100 * 12544 + 49 * 25 * 256 * 128 + 49 * 25 * 128 * 64 + 196 * 25 * 64 * 1
    hand_discriminator = 196 * 25 * 1 * 64 + 49 * 25 * 64 * 128 + 6272
    assert multiply_adds(generator) == hand_generator
    assert multiply_adds(discriminator) == hand_discriminator


def test_bce_from_logits_keeps_its_gradient_where_the_sigmoid_route_loses_it():
    logits = tf.constant([[40.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        exact = keras.losses.binary_crossentropy(tf.zeros_like(logits), logits, from_logits=True)
        clipped = keras.losses.binary_crossentropy(tf.zeros_like(logits), tf.sigmoid(logits))
    assert float(tape.gradient(exact, logits)[0, 0]) == pytest.approx(1.0)
    assert float(tape.gradient(clipped, logits)[0, 0]) == 0.0
    assert float(exact[0]) == pytest.approx(40.0) and float(clipped[0]) < 17


def test_discriminator_batch_norm_skips_the_first_layer_and_keeps_styles_identical():
    from gan_lessons.discriminator import build_discriminator, discriminator_layers

    names = [layer.name for layer in discriminator_layers(filters=(8, 16, 32), batch_norm=True)]
    assert "down0_bn" not in names and "down1_bn" in names and "down2_bn" in names
    counts = {
        style: build_discriminator(style, filters=(8, 16), batch_norm=True).count_params()
        for style in ("sequential", "functional", "subclassed")
    }
    assert (
        len(set(counts.values())) == 1
        and counts["functional"] > build_discriminator(filters=(8, 16)).count_params()
    )
