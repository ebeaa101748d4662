"""Lesson 11 (in progress): the synthetic sound dataset and the audio feature distance."""
import numpy as np
import pytest

from gan_lessons.audio import CLIP_LENGTH, audio_features, feature_distance, synthesize_clips


def test_clips_are_deterministic_per_seed_with_the_stated_length_and_range():
    clips, parameters = synthesize_clips(40, seed=3)
    again, _ = synthesize_clips(40, seed=3)
    other, _ = synthesize_clips(40, seed=4)
    assert np.array_equal(clips, again) and not np.array_equal(clips, other)
    assert clips.shape == (40, CLIP_LENGTH, 1) and clips.dtype == np.float32
    assert np.abs(clips).max() <= 0.9 + 1e-6 and np.allclose(np.abs(clips).max(axis=(1, 2)), parameters["peak"], rtol=1e-5)
    with pytest.raises(ValueError, match="expected count ≥ 1"):
        synthesize_clips(0)


def test_features_recover_a_pure_tone_and_the_distance_of_a_set_with_itself_is_zero():
    time_axis = np.arange(CLIP_LENGTH) / 8000
    tone = (0.5 * np.sin(2 * np.pi * 440 * time_axis))[None, :, None]
    f0, centroid, loudness = audio_features(tone)[0]
    assert f0 == pytest.approx(440, rel=0.01) and centroid == pytest.approx(440, rel=0.05)
    assert loudness == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)
    features = audio_features(synthesize_clips(300, seed=0)[0])
    assert feature_distance(features, features) == pytest.approx(0, abs=1e-9)
    floor = feature_distance(audio_features(synthesize_clips(300, seed=1)[0]), features)
    noise = np.random.default_rng(0).uniform(-1, 1, (300, CLIP_LENGTH, 1))
    assert floor < 0.2 < feature_distance(audio_features(noise), features)


def test_the_generator_output_length_matches_its_arithmetic_and_the_critic_takes_it():
    from gan_lessons.audio import build_audio_gan

    gan = build_audio_gan(seed=0, latent_dim=8, channels=(16, 8, 8, 4))
    clips = gan.generator(np.zeros((2, 8), np.float32))
    assert clips.shape == (2, CLIP_LENGTH, 1) and np.abs(clips).max() <= 1  # (4096 / 4⁴) · 4⁴ samples, tanh
    assert gan.discriminator(clips).shape == (2, 1)
