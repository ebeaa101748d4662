"""Pretrained models load offline with their documented contracts; the `gan-lessons` command's
errors and resume."""

import json

import keras
import numpy as np
import pytest

from gan_lessons import pretrained
from gan_lessons.pretrained import PRETRAINED, PretrainedError


def test_pretrained_assets_fit_the_budget_and_each_has_a_model_card():
    total = sum(path.stat().st_size for path in pretrained.assets_dir().iterdir())
    assert total <= 25e6, f"pretrained assets are {total / 1e6:.1f} MB, the budget is 25 MB"
    for name in pretrained.available():
        card = pretrained.model_card(name)
        for required in (
            "Data and split",
            "Command:",
            "gan-lessons train",
            "Steps:",
            "Wall time",
            "## Metrics",
        ):
            assert required in card, f"the model card of {name} lacks {required!r}"


def test_shipped_models_carry_no_optimizer_state():
    "Optimizer slots would double or triple each file; a sampling model needs only its weights."
    import io
    import zipfile

    import h5py

    from gan_lessons import pretrained

    for name in pretrained.available():
        with zipfile.ZipFile(pretrained.model_path(name)) as archive:
            weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
            assert "optimizer" not in weights or not len(weights["optimizer"].get("vars", {})), name


def test_the_classifier_loads_offline_and_classifies_real_digits(with_data):
    from gan_lessons.data import load_mnist, scale_images

    classifier = pretrained.load("mnist-classifier")
    heldout = load_mnist("heldout", fallback=False, verbose=False)
    logits = classifier.predict(scale_images(heldout.images[:500]), verbose=0)
    assert logits.shape == (500, 10)
    assert (logits.argmax(axis=1) == heldout.labels[:500]).mean() >= 0.985


@pytest.mark.parametrize(
    "name", [name for name, entry in PRETRAINED.items() if entry["kind"] == "image-generator"]
)
def test_image_generators_follow_the_contract(name):
    generator = pretrained.load(name)
    images = generator(
        keras.random.normal((5, generator.latent_dim), seed=1), training=False
    ).numpy()
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1 and images.std() > 0.1


def test_the_audio_generator_follows_its_contract():
    from gan_lessons.audio import CLIP_LENGTH

    generator = pretrained.load("audio-gan-tones")
    clips = generator(
        keras.random.normal((5, generator.latent_dim), seed=1), training=False
    ).numpy()
    assert PRETRAINED["audio-gan-tones"]["kind"] == "audio-generator"
    assert clips.shape == (5, CLIP_LENGTH, 1) and clips.dtype == np.float32
    assert np.abs(clips).max() <= 1 and clips.std() > 0.01


def test_unknown_names_missing_runs_and_broken_files_are_refused_clearly(tmp_path):
    with pytest.raises(
        PretrainedError,
        match="expected one of audio-gan-tones, cgan-mnist, char-lstm-frankenstein, dcgan-mnist, "
        "mnist-classifier, vae-mnist, wgan-gp-mnist",
    ):
        pretrained.load("dcgan-cifar")
    with pytest.raises(PretrainedError, match="holds no model.keras"):
        pretrained.load(tmp_path)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(PretrainedError, match="could not load .*broken.keras"):
        pretrained.load(broken)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "gan", "--out", "x"], "invalid choice: 'gan'"),
        (["train", "dcgan", "--out", "x", "--epochs", "0"], "expected a whole number ≥ 1, got 0"),
        (["train", "dcgan", "--out", "x", "--recipe", "slow"], "invalid choice: 'slow'"),
        (["train", "dcgan"], "--out"),
        (
            ["sample", "dcgan-mnist", "--n", "-3", "--out", "grid.png"],
            "expected a whole number ≥ 1",
        ),
        (["evaluate"], "model"),
    ],
)
def test_bad_arguments_exit_with_code_2_and_say_what_was_expected(argv, message, run_cli):
    code, _, err = run_cli(argv)
    assert code == 2 and message in err


def test_bad_inputs_exit_with_code_2_and_write_nothing(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = [
        (["sample", "dcgan-cifar", "--out", "grid.png"], "unknown pretrained model 'dcgan-cifar'"),
        (["sample", "dcgan-mnist", "--out", "grid.jpg"], "must name a .png file"),
        (["sample", "dcgan-mnist", "--out", "missing/grid.png"], "folder of --out does not exist"),
        (["sample", "mnist-classifier", "--out", "grid.png"], "not an image generator"),
        (["evaluate", str(tmp_path)], "holds no model.keras"),
    ]
    for argv, message in cases:
        code, _, err = run_cli(argv)
        assert code == 2 and message in err, (argv, err)
    assert list(tmp_path.iterdir()) == []


def test_sample_writes_the_png_and_nothing_else(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(["sample", "dcgan-mnist", "--n", "16", "--out", "grid.png"])
    assert code == 0 and "wrote 16 samples" in out
    assert [path.name for path in tmp_path.iterdir()] == ["grid.png"]
    from PIL import Image

    assert (
        Image.open(tmp_path / "grid.png").size == (2 * (4 * 29 + 1),) * 2
    )  # 4×4 grid of 28 px + borders, ×2


def test_evaluate_json_reports_the_metrics_and_their_floor(with_data, run_cli):
    code, out, _ = run_cli(["evaluate", "dcgan-mnist", "--n", "300", "--json"])
    report = json.loads(out)
    assert code == 0
    for key in ("classifier_score", "fcd", "fcd_real_floor", "class_fractions", "n_samples"):
        assert key in report
    assert report["n_samples"] == 300 and len(report["class_fractions"]) == 10
    assert abs(sum(report["class_fractions"]) - 1) < 1e-3 and 1 <= report["classifier_score"] <= 10


def test_shipped_dcgan_mnist_meets_its_quality_targets(with_data, run_cli):
    # the model card's measurement: 2,000 samples, noise seed 0, the shipped classifier, the 2,000
    # held-out images
    code, out, _ = run_cli(["evaluate", "dcgan-mnist", "--json"])
    report = json.loads(out)
    assert code == 0 and report["n_samples"] == 2000
    assert report["classifier_score"] >= 9.0 and report["fcd_ratio"] <= 2.0, report
    assert 0.07 <= min(report["class_fractions"]) and max(report["class_fractions"]) <= 0.13, (
        report["class_fractions"]
    )


def _model_weights(run_dir):
    return [
        weight
        for weight in keras.models.load_model(run_dir / "model.keras", compile=False).get_weights()
    ]


@pytest.mark.slow
def test_train_resumes_when_rerun_and_refuses_a_different_run(
    with_data, tmp_path, run_cli, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    small = ["--images", "256", "--recipe", "fast"]
    assert run_cli(["train", "dcgan", "--out", "straight", "--epochs", "2", *small])[0] == 0
    assert run_cli(["train", "dcgan", "--out", "resumed", "--epochs", "1", *small])[0] == 0
    code, out, _ = run_cli(["train", "dcgan", "--out", "resumed", "--epochs", "2", *small])
    assert code == 0 and "resuming after epoch 1 of 2" in out
    record = json.loads((tmp_path / "resumed" / "run.json").read_text())
    assert (
        record["completed_epochs"] == 2
        and record["train_seconds"] > 0
        and "--epochs 2" in record["command"]
    )
    for straight, resumed in zip(
        _model_weights(tmp_path / "straight"), _model_weights(tmp_path / "resumed")
    ):
        np.testing.assert_array_equal(straight, resumed)
    code, _, err = run_cli(
        [
            "train",
            "dcgan",
            "--out",
            "resumed",
            "--epochs",
            "3",
            "--images",
            "256",
            "--recipe",
            "full",
        ]
    )
    assert code == 2 and "holds a different run" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["resumed", "straight"]
    assert not list(tmp_path.rglob("*partial*"))


@pytest.mark.slow
def test_an_interrupted_train_exits_130_keeps_its_checkpoint_and_resumes(
    with_data, tmp_path, run_cli, monkeypatch
):
    from gan_lessons import training

    real_fit = training.GAN.fit

    def fit_then_interrupt(self, *args, **kwargs):
        class Interrupt(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == 1:
                    raise KeyboardInterrupt

        kwargs["callbacks"] = [*kwargs["callbacks"], Interrupt()]
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(training.GAN, "fit", fit_then_interrupt)
    argv = ["train", "dcgan", "--out", str(tmp_path / "run"), "--epochs", "2", "--images", "128"]
    code, _, err = run_cli(argv)
    assert code == 130 and "rerun the same command" in err
    assert json.loads((tmp_path / "run" / "run.json").read_text())["completed_epochs"] == 1
    monkeypatch.setattr(
        training.GAN, "fit", real_fit
    )  # not undo(): that would also unset GAN_LESSONS_DATA
    code, out, err = run_cli(argv)
    assert code == 0 and "resuming after epoch 1 of 2" in out, err
    assert not list(tmp_path.rglob("*partial*"))


def test_shipped_benchmark_rows_load_with_the_fields_the_lessons_plot():
    variants = pretrained.benchmark_rows("gan_variants.jsonl")
    assert {row["variant"] for row in variants} == {"dcgan", "wgan", "wgan-gp", "sngan"}
    assert all(
        {"seconds", "generator_steps", "classifier_score", "fcd", "min_class", "max_class"}
        <= set(row)
        for row in variants
    )
    assert all(
        "seconds" in row and "G" in row for row in pretrained.benchmark_rows("recipe_search.jsonl")
    )
    with pytest.raises(
        FileNotFoundError, match="no gan_variant.jsonl in .*expected e.g. recipe_search.jsonl"
    ):
        pretrained.benchmark_rows("gan_variant.jsonl")


def _with_extra_option(source, target, option, value):
    """A copy of a .keras file whose Dense layers carry one more option, as a newer Keras would
    write it."""
    import json
    import zipfile

    with zipfile.ZipFile(source) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(parts["config.json"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["config"][option] = value
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, json.dumps(config) if name == "config.json" else content)
    return target


def test_a_file_from_a_newer_keras_loads_when_its_new_options_hold_their_defaults(
    tmp_path, monkeypatch
):
    """Colab's older Keras refuses options added later (e.g. quantization_config); left at their
    defaults, they go."""
    import warnings

    from gan_lessons import pretrained

    monkeypatch.setitem(pretrained.NEWER_KERAS_DEFAULTS, "future_option", None)
    source = pretrained.model_path("mnist-classifier")
    newer = _with_extra_option(source, tmp_path / "newer.keras", "future_option", None)
    with pytest.raises((TypeError, ValueError)):
        keras.models.load_model(newer, compile=False)  # what Keras itself does with such a file
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = pretrained.load(newer)
    assert any("future_option" in str(w.message) and "left out" in str(w.message) for w in caught)
    reference = pretrained.load("mnist-classifier")
    probe = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    assert np.allclose(model(probe, training=False), reference(probe, training=False))
    used = _with_extra_option(
        source, tmp_path / "used.keras", "future_option", "on"
    )  # a setting actually used
    with pytest.raises(pretrained.PretrainedError, match="sets future_option.*install keras>="):
        pretrained.load(used)
    unknown = _with_extra_option(source, tmp_path / "unknown.keras", "another_option", None)
    with pytest.raises(
        pretrained.PretrainedError, match="lacks \\(another_option\\); upgrade Keras"
    ):
        pretrained.load(unknown)
