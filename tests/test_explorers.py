"""The interactive explorers' update logic, headless: the same control values give the same pictures
(or text), other values give others, and the widgets show exactly what the pure functions return."""

import html

import keras
import numpy as np
import pytest

from gan_lessons.discriminator import build_discriminator
from gan_lessons.explorers import (
    ClassExplorer,
    LatentExplorer,
    explorer_widget,
    interpolate_latents,
    latent_random_walk,
    png_bytes,
    temperature_explorer,
    temperature_table,
)
from gan_lessons.generator import build_generator
from gan_lessons.text import CharGenerator, CharVocabulary, build_char_lstm
from gan_lessons.training import GAN, fit_gan
from gan_lessons.viz import LiveTrainingView, image_grid


def toy_generator(latent_dim=16):
    """Each image is its latent vector, squashed: different latents, different pictures; no training
    needed."""
    noise = keras.Input((latent_dim,))
    model = keras.Model(
        noise, keras.layers.Reshape((4, latent_dim // 4, 1))(keras.activations.tanh(noise))
    )
    model.latent_dim = latent_dim
    return model


def toy_conditional_generator(latent_dim=16, num_classes=3):
    noise, label = keras.Input((latent_dim,)), keras.Input((), dtype="int32")
    shift = keras.layers.Embedding(num_classes, latent_dim, embeddings_initializer="uniform")(label)
    images = keras.layers.Reshape((4, latent_dim // 4, 1))(
        keras.activations.tanh(noise + 3 * shift)
    )
    return keras.Model([noise, label], images)


def controls(box):
    return box.children[0].children


def test_slerp_keeps_the_length_and_the_straight_line_sags():
    start, end = np.random.default_rng(1).standard_normal((2, 100))
    spherical = interpolate_latents(start, end, 11)
    straight = interpolate_latents(start, end, 11, method="linear")
    np.testing.assert_allclose(spherical[[0, -1]], [start, end], atol=1e-5)
    np.testing.assert_allclose(straight[5], (start + end) / 2, atol=1e-5)
    lengths = np.linalg.norm(spherical, axis=1)
    ends = sorted(lengths[[0, -1]])
    assert (
        ends[0] - 1e-3 <= lengths.min() and lengths.max() <= ends[1] + 1e-3
    )  # the length never sags below the ends'
    assert np.linalg.norm(straight[5]) < 0.8 * lengths.min()
    with pytest.raises(ValueError, match="at least 2"):
        interpolate_latents(start, end, 1)
    with pytest.raises(ValueError, match="same length"):
        interpolate_latents(start, end[:50], 5)
    with pytest.raises(ValueError, match="'slerp' or 'linear'"):
        interpolate_latents(start, end, 5, method="cubic")


def test_random_walk_is_seeded_and_every_point_is_a_standard_gaussian_sample():
    walk = latent_random_walk(64, 2000, angle=0.2, seed=5)
    assert np.array_equal(walk, latent_random_walk(64, 2000, angle=0.2, seed=5))
    assert not np.array_equal(walk, latent_random_walk(64, 2000, angle=0.2, seed=6))
    assert abs(walk.mean()) < 0.05 and abs(walk.std() - 1) < 0.05
    steps = np.linalg.norm(np.diff(walk, axis=0), axis=1)
    assert np.median(steps) < 0.3 * np.median(
        np.linalg.norm(walk, axis=1)
    )  # small steps, not fresh samples


def test_latent_explorer_widget_shows_what_its_functions_draw():
    explorer = LatentExplorer(toy_generator())
    box = explorer.widget(steps=4)
    seed_from, seed_to, method, walk_seed, angle = controls(box)
    expected = png_bytes(
        image_grid(
            np.concatenate([explorer.interpolation(0, 1, 4), explorer.walk(2, 4, 0.3)]), ncols=4
        )
    )
    assert box.view.value == expected
    seed_to.value = 9
    changed = box.view.value
    assert changed != expected
    seed_to.value = 1
    assert box.view.value == expected  # the same inputs give the same image again
    method.value = "linear"
    assert box.view.value not in (expected, changed)
    assert (
        LatentExplorer(toy_generator()).widget(steps=4).view.value == expected
    )  # and in a new widget
    gif = explorer.animation(frames=4, count=2).data
    assert gif.startswith('<figure><img src="data:image/gif;base64,')
    with pytest.raises(ValueError, match="use ClassExplorer"):
        LatentExplorer(toy_conditional_generator(), latent_dim=16)


def test_class_explorer_picks_the_class_and_keeps_the_noise():
    explorer = ClassExplorer(
        toy_conditional_generator(), num_classes=3, latent_dim=16, class_names=["a", "b", "c"]
    )
    assert np.array_equal(explorer.images(1, seed=4), explorer.images(1, seed=4))
    assert not np.array_equal(explorer.images(1, seed=4), explorer.images(2, seed=4))
    box = explorer.widget(count=8)
    label, seed = controls(box)
    label.value = 2
    seed.value = 5
    assert box.view.value == png_bytes(image_grid(explorer.images(2, 5, 8), ncols=4))
    with pytest.raises(ValueError, match=r"label must be in 0\.\.2"):
        explorer.images(3)
    with pytest.raises(ValueError, match="expected 3 class names"):
        ClassExplorer(toy_conditional_generator(), num_classes=3, latent_dim=16, class_names=["a"])
    with pytest.raises(ValueError, match=r"conditional generator with inputs \[noise, labels\]"):
        ClassExplorer(toy_generator())


def test_explorer_widget_checks_its_output_kind():
    with pytest.raises(ValueError, match="'image' or 'text'"):
        explorer_widget(lambda: None, {}, output="audio")
    with pytest.raises(ValueError, match=r"expected a grid shaped \(H, W\)"):
        png_bytes(np.zeros((2, 2, 2, 2)))


def test_live_training_view_follows_fit_epoch_by_epoch(tmp_path):
    keras.utils.set_random_seed(0)
    gan = GAN(build_generator(channels=(16, 8, 4)), build_discriminator(filters=(4, 8)), seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    images = np.random.default_rng(0).integers(0, 256, (96, 28, 28), dtype=np.uint8)
    live = LiveTrainingView(
        np.random.default_rng(1).standard_normal((8, 100)).astype("float32"), every=2
    )
    box = live.widget()
    blank = box.view.value
    fit_gan(gan, images, epochs=2, out_dir=tmp_path, batch_size=32, callbacks=[live], verbose=0)
    (slider,) = controls(box)
    assert (
        len(live.grids) == 3 and slider.max == 2 and slider.value == 2
    )  # before training, then two epochs
    assert live.curve_steps == [2, 4, 6] and live.epoch_steps == [0, 3, 6]
    assert all(len(values) == 3 and np.all(np.isfinite(values)) for values in live.curves.values())
    assert box.view.value != blank and box.view.value == live.render(2) == live.render()
    slider.value = 0
    assert box.view.value == live.render(0) != live.render(2)
    assert not np.array_equal(live.grids[0], live.grids[2])  # the generator changed
    with pytest.raises(ValueError, match=r"epoch must be in 0\.\.2"):
        live.render(3)
    with pytest.raises(ValueError, match="every must be a positive"):
        LiveTrainingView(live.noise, every=0)
    with pytest.raises(ValueError, match="nothing to show yet"):
        LiveTrainingView(live.noise).render()


def test_live_training_view_names_a_missing_loss(tmp_path):
    gan = GAN(build_generator(channels=(16, 8, 4)), build_discriminator(filters=(4, 8)), seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    live = LiveTrainingView(
        np.zeros((4, 100), "float32"), losses=("d_loss", "critic_loss"), every=1
    )
    with pytest.raises(KeyError, match="no critic_loss; they have: .*d_loss"):
        fit_gan(
            gan,
            np.zeros((32, 28, 28), np.uint8),
            epochs=1,
            out_dir=tmp_path,
            batch_size=32,
            callbacks=[live],
            verbose=0,
        )


def test_temperature_explorer_shows_the_generated_text():
    text = "It was on a dreary night of November that I beheld the accomplishment of my toils. " * 3
    keras.utils.set_random_seed(0)
    vocabulary = CharVocabulary.from_text(text)
    generator = CharGenerator(
        build_char_lstm(len(vocabulary), embedding_dim=8, units=(16,)), vocabulary
    )
    box = temperature_explorer(generator, prompt="It was", length=30)
    prompt, temperature, top_k, seed = controls(box)
    assert (
        box.view.value == "<pre style='white-space: "
        f"pre-wrap'>{html.escape(generator.generate('It was', 30))}</pre>"
    )
    temperature.value, top_k.value, seed.value = 0.5, 3, 7
    expected = generator.generate("It was", 30, temperature=0.5, top_k=3, seed=7)
    assert html.escape(expected) in box.view.value
    temperature.value = 1.5
    assert (
        html.escape(generator.generate("It was", 30, temperature=1.5, top_k=3, seed=7))
        in box.view.value
    )
    top_k.value, temperature.value = 0, 0.0
    greedy = generator.generate("It was", 30, temperature=0.0)
    assert html.escape(greedy) in box.view.value and greedy != generator.generate(
        "It was", 30, temperature=1.5, seed=7
    )
    prompt.value = (
        "Zebra"  # unseen characters are replaced, not an error in the middle of a widget callback
    )
    assert box.view.value.startswith("<pre")
    table = temperature_table(generator, prompt="It", length=20, temperatures=(0.0, 1.0)).data
    assert (
        table.count("<tr>") == 3
        and html.escape(generator.generate("It", 20, temperature=0.0)) in table
    )
