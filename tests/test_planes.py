"""Page 85: clips as spectral planes (log magnitude, instantaneous frequency) and back, and the
networks that draw and judge them."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.planes import (
    ClipToPlanes,
    PlanesToClip,
    build_planes_critic,
    build_planes_generator,
    clip_generator,
    planes_shape,
)
from gan_lessons.sound import CLIP_LENGTH, synthesize_clips


def _faded_tone(frequency, rate=8000):
    time_axis = np.arange(CLIP_LENGTH) / rate
    fade = np.minimum(1, np.minimum(time_axis, time_axis[-1] - time_axis) / 0.03)
    return (0.4 * fade * np.sin(2 * np.pi * frequency * time_axis + 1.0)).astype("float32")


def test_a_signal_without_nyquist_content_goes_there_and_back_exactly():
    clips = np.stack([_faded_tone(300.0), _faded_tone(1234.5)])[..., None]
    planes = ClipToPlanes()(clips)
    assert planes.shape == (2, *planes_shape()) == (2, 64, 128, 2)
    assert np.abs(PlanesToClip()(planes).numpy() - clips).max() < 1e-4


def test_the_round_trip_keeps_lesson_12s_clips_within_the_real_floor():
    "The dropped Nyquist bin costs the three measured features nothing beyond the sampling noise."
    from gan_lessons.audio import HELDOUT_SEEDS, audio_features, feature_distance

    clips = synthesize_clips(300, seed=HELDOUT_SEEDS[1])[0]
    real = audio_features(synthesize_clips(300, seed=HELDOUT_SEEDS[0])[0])
    back = PlanesToClip()(ClipToPlanes()(clips)).numpy()
    floor = feature_distance(audio_features(clips), real)
    assert feature_distance(audio_features(back), real) < 1.5 * floor


def test_a_steady_partial_is_a_constant_line_of_if():
    time_axis = np.arange(CLIP_LENGTH) / 8000
    tone = (0.5 * np.sin(2 * np.pi * 13 * 31.25 * time_axis)).astype("float32")[None, :, None]
    planes = ClipToPlanes()(tone).numpy()[0]
    assert np.allclose(planes[4:-4, 13, 1], 0.5, atol=1e-3)  # 13 / 4 turns a hop → +π/2
    assert np.abs(planes[..., 1]).max() <= 1


def test_gradients_are_finite_through_silence():
    "A silent bin has no phase: the transform must not turn it into NaN gradients."
    silence = tf.Variable(np.zeros((1, CLIP_LENGTH, 1), "float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(ClipToPlanes()(silence))
    assert np.isfinite(tape.gradient(loss, silence).numpy()).all()


def test_the_networks_keep_their_shapes_and_the_clip_generator_saves_and_loads(tmp_path):
    generator, critic = build_planes_generator(channels=(16, 8, 8, 4)), build_planes_critic((4, 8))
    noise = keras.random.normal((2, generator.latent_dim), seed=1)
    planes = generator(noise)
    assert planes.shape == (2, 64, 128, 2) and critic(planes).shape == (2, 1)
    clips = clip_generator(generator)
    assert clips.latent_dim == generator.latent_dim
    before = clips(noise).numpy()
    clips.save(tmp_path / "clips.keras")
    loaded = keras.saving.load_model(tmp_path / "clips.keras")
    assert loaded.output_shape == (None, CLIP_LENGTH, 1)
    assert np.allclose(loaded(noise).numpy(), before, atol=1e-5)


def test_sizes_that_do_not_tile_are_refused():
    with pytest.raises(ValueError, match="multiples of the hop"):
        planes_shape(4000, 256, 64)


def test_the_clip_generator_keeps_lesson_12s_range_where_the_planes_sum_louder():
    loud = np.full((1, 64, 128, 2), 0.0, "float32")
    loud[..., 0] = 1.0  # every bin at the planes' loudest magnitude,
    loud[
        :, 0, 1::2, 1
    ] = -1.0  # in phase at each frame's centre (a phase of −πk): a click far above 1
    assert np.abs(PlanesToClip()(loud).numpy()).max() > 1
    limited = PlanesToClip(limit=1.0)
    assert np.abs(limited(loud).numpy()).max() <= 1.0
    assert PlanesToClip.from_config(limited.get_config()).limit == 1.0


def test_the_minibatch_spread_lets_the_critic_see_a_batch_without_variety():
    critic = build_planes_critic((4, 8), minibatch_std=True)
    planes = np.random.default_rng(0).uniform(-1, 1, (4, 64, 128, 2)).astype("float32")
    varied = critic(planes).numpy()[0]
    uniform = critic(np.repeat(planes[:1], 4, axis=0)).numpy()[0]  # the same first clip, no spread
    assert critic.get_layer("minibatch_std").output.shape[-1] == 9
    assert not np.allclose(varied, uniform)  # one clip judged differently by the batch around it
