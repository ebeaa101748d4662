"""Lesson 12: the synthetic sound dataset, the audio feature distance, WAV files and the 1-D GAN."""

import numpy as np
import pytest

from gan_lessons.audio import CLIP_LENGTH, audio_features, feature_distance, synthesize_clips


def test_clips_are_deterministic_per_seed_with_the_stated_length_and_range():
    clips, parameters = synthesize_clips(40, seed=3)
    again, _ = synthesize_clips(40, seed=3)
    other, _ = synthesize_clips(40, seed=4)
    assert np.array_equal(clips, again) and not np.array_equal(clips, other)
    assert clips.shape == (40, CLIP_LENGTH, 1) and clips.dtype == np.float32
    assert np.abs(clips).max() <= 0.9 + 1e-6 and np.allclose(
        np.abs(clips).max(axis=(1, 2)), parameters["peak"], rtol=1e-5
    )
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
    assert (
        clips.shape == (2, CLIP_LENGTH, 1) and np.abs(clips).max() <= 1
    )  # (4096 / 4⁴) · 4⁴ samples, tanh
    assert gan.discriminator(clips).shape == (2, 1)


def test_wav_round_trip_and_a_failed_write_leaves_the_old_file(tmp_path):
    from gan_lessons.audio import SAMPLE_RATE, read_wav, write_wav

    clips, _ = synthesize_clips(3, seed=0)
    path = tmp_path / "clips.wav"
    write_wav(path, clips, gap_seconds=0.25)
    signal, rate = read_wav(path)
    gap = int(0.25 * SAMPLE_RATE)
    assert rate == SAMPLE_RATE and len(signal) == 3 * CLIP_LENGTH + 2 * gap
    assert np.abs(signal[:CLIP_LENGTH] - clips[0, :, 0]).max() < 1e-4  # 16-bit: error ≤ half a step
    assert np.all(signal[CLIP_LENGTH : CLIP_LENGTH + gap] == 0)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"expected clips shaped \(n, length, 1\)"):
        write_wav(path, clips[..., 0])
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "clips.wav"
    ]


def test_audio_report_puts_real_clips_at_the_floor_and_noise_far_above_it():
    from gan_lessons.audio import audio_report

    real = audio_report(synthesize_clips(300, seed=5)[0])
    noise = audio_report(
        np.random.default_rng(0).uniform(-0.5, 0.5, (300, CLIP_LENGTH, 1)).astype(np.float32)
    )
    assert real["n_samples"] == 300 and real["ratio"] < 5 < noise["ratio"]
    assert (
        noise["generated_medians"]["centroid_hz"] > 1500 > real["generated_medians"]["centroid_hz"]
    )
    with pytest.raises(ValueError, match="at least 10 clips"):
        audio_report(synthesize_clips(3, seed=0)[0])


def test_spectral_centroid_checker_accepts_the_solution_and_names_typical_mistakes():
    from gan_lessons.exercises import ExerciseError
    from gan_lessons.exercises_beyond import check_spectral_centroid

    def centroid(clips, sample_rate, window=True, bins=False):
        signals = clips[..., 0]
        spectrum = np.abs(
            np.fft.rfft(signals * (np.hanning(signals.shape[1]) if window else 1.0), axis=1)
        )
        frequencies = (
            np.arange(spectrum.shape[1])
            if bins
            else np.fft.rfftfreq(signals.shape[1], 1 / sample_rate)
        )
        return (spectrum * frequencies).sum(axis=1) / spectrum.sum(axis=1)

    assert check_spectral_centroid(centroid)
    assert check_spectral_centroid(
        lambda clips, sample_rate: audio_features(clips, sample_rate)[:, 1]
    )
    for wrong, message in [
        (lambda c, r: centroid(c, r, window=False), "without a window"),
        (lambda c, r: centroid(c, r, bins=True), "FFT bin numbers"),
        (lambda c, r: centroid(c, r).mean(), "one number per clip"),
    ]:
        with pytest.raises(ExerciseError, match=message):
            check_spectral_centroid(wrong)


@pytest.mark.slow  # trains the waveform GAN from the command line and resumes it
def test_train_audio_gan_resumes_and_sample_and_evaluate_accept_its_run(tmp_path, run_cli):
    import json

    from gan_lessons import pretrained
    from gan_lessons.audio import SAMPLE_RATE, read_wav

    argv = ["train", "audio-gan", "--out", str(tmp_path / "run"), "--clips", "128"]
    assert run_cli([*argv, "--epochs", "1"])[0] == 0
    code, out, _ = run_cli([*argv, "--epochs", "2"])
    assert code == 0 and "resuming after epoch 1 of 2" in out
    assert json.loads((tmp_path / "run" / "run.json").read_text())["completed_epochs"] == 2
    assert pretrained.load(tmp_path / "run").output_shape == (None, CLIP_LENGTH, 1)
    code, out, _ = run_cli(
        ["sample", str(tmp_path / "run"), "--n", "3", "--out", str(tmp_path / "clips.wav")]
    )
    signal, rate = read_wav(tmp_path / "clips.wav")
    assert (
        code == 0 and rate == SAMPLE_RATE and len(signal) == 3 * CLIP_LENGTH + 2 * SAMPLE_RATE // 4
    )
    code, out, _ = run_cli(["evaluate", str(tmp_path / "run"), "--n", "50", "--json"])
    report = json.loads(out)
    assert (
        code == 0
        and report["n_samples"] == 50
        and report["feature_distance"] > report["feature_distance_real_floor"]
    )
    code, _, err = run_cli(["sample", str(tmp_path / "run"), "--out", str(tmp_path / "clips.png")])
    assert code == 2 and "must name a .wav file" in err
    code, _, err = run_cli(["evaluate", str(tmp_path / "run"), "--n", "5"])
    assert code == 2 and "at least 10 clips" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clips.wav", "run"]


def test_spectral_flatness_is_near_zero_for_a_tone_near_one_for_white_noise():
    from gan_lessons.audio import spectral_flatness

    time_axis = np.arange(CLIP_LENGTH) / 8000
    tone = (0.5 * np.sin(2 * np.pi * 440 * time_axis))[None, :, None]
    noise = np.random.default_rng(0).normal(0, 0.1, (1, CLIP_LENGTH, 1))
    assert spectral_flatness(tone)[0] < 1e-3 < 0.5 < spectral_flatness(noise)[0]
    hissy = tone + 0.01 * noise  # hiss 34 dB under the tone lifts it by orders of magnitude
    assert spectral_flatness(hissy)[0] > 100 * spectral_flatness(tone)[0]


def test_the_low_pass_generator_keeps_its_contract_and_removes_what_is_above_the_cutoff():
    from gan_lessons.audio import build_audio_generator, lowpass_kernel

    kernel = lowpass_kernel(3000.0)
    assert abs(kernel.sum() - 1) < 1e-6  # unit gain at 0 Hz
    response = np.abs(np.fft.rfft(kernel, 4096))
    frequencies = np.fft.rfftfreq(4096, 1 / 8000)
    assert response[frequencies < 2500].min() > 0.9 and response[frequencies > 3500].max() < 0.01
    generator = build_audio_generator(lowpass_hz=3000.0)
    clips = generator(np.random.default_rng(1).normal(size=(4, 64)), training=False).numpy()
    assert clips.shape == (4, CLIP_LENGTH, 1) and np.abs(clips).max() <= 1.0
    assert generator.get_layer("lowpass").trainable is False


def test_evaluate_prints_flatness_and_centroid_beside_the_real_clips(run_cli):
    "Issue 27: `evaluate` reports the clips' spectral flatness and centroid beside the real ones."
    import json

    code, out, _ = run_cli(["evaluate", "audio-waveform-tones", "--n", "200", "--json"])
    report = json.loads(out)
    generated, real = report["generated_medians"], report["real_medians"]
    assert code == 0 and {"flatness", "centroid_hz"} <= set(generated) & set(real)
    assert real["flatness"] < 1e-6 < generated["flatness"]  # the waveform GAN's hiss, measured
    code, out, _ = run_cli(["evaluate", "audio-gan-tones", "--n", "200"])
    assert code == 0 and "median flatness" in out and "median centroid" in out and "(real:" in out


@pytest.mark.slow  # trains the planes GAN three times (2 epochs; 1; resumed to 2) on 64 clips
def test_the_planes_representation_trains_resumes_and_keeps_the_clip_contract(tmp_path, run_cli):
    "`train audio-gan --representation planes`: page 85's GAN, saved behind PlanesToClip."
    import keras

    from gan_lessons import pretrained

    argv = ["--clips", "64", "--representation", "planes"]
    straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
    assert run_cli(["train", "audio-gan", "--out", straight, "--epochs", "2", *argv])[0] == 0
    assert run_cli(["train", "audio-gan", "--out", resumed, "--epochs", "1", *argv])[0] == 0
    keras.backend.clear_session()
    code, out, _ = run_cli(["train", "audio-gan", "--out", resumed, "--epochs", "2", *argv])
    assert code == 0 and "resuming after epoch 1 of 2" in out
    models = [pretrained.load(tmp_path / name) for name in ("straight", "resumed")]
    for before, after in zip(*(model.get_weights() for model in models)):
        np.testing.assert_array_equal(before, after)
    assert models[0].get_layer("to_clip") is not None
    assert models[0].output_shape == (None, CLIP_LENGTH, 1) and models[0].latent_dim == 64


def test_clips_are_told_by_kind_as_the_synthesizer_made_them():
    from gan_lessons.audio import clip_kinds

    clips, parameters = synthesize_clips(300, seed=4)
    told = clip_kinds(clips)
    assert np.mean(told == parameters["kind"]) > 0.95
    time_axis = np.arange(CLIP_LENGTH) / 8000
    tone = np.sin(2 * np.pi * 330 * time_axis)
    chirp = np.sin(2 * np.pi * np.cumsum(200 * 4 ** (time_axis / time_axis[-1])) / 8000)
    noise = np.random.default_rng(0).normal(0, 0.3, CLIP_LENGTH)
    made = np.stack([tone, noise, chirp])[..., None] * 0.5
    assert clip_kinds(made).tolist() == [0, 1, 2]


def test_the_report_gives_each_kind_its_share_and_distance():
    from gan_lessons.audio import audio_report

    clips, parameters = synthesize_clips(60, seed=7)
    report = audio_report(clips)
    assert len(report["kind_shares"]) == 3 and abs(sum(report["kind_shares"]) - 1) < 0.01
    assert report["kind_distances"][0] is not None  # ~30 tones: enough to compare
    only_tones = audio_report(np.repeat(clips[parameters["kind"] == 0][:1], 20, axis=0))
    assert only_tones["kind_shares"][1] == 0 and only_tones["kind_distances"][1] is None
