"""Pretrained models load offline with their documented contracts and their records."""

import keras
import numpy as np
import pytest

from gan_lessons import model_cards, pretrained
from gan_lessons.pretrained import PRETRAINED, PretrainedError


def test_pretrained_assets_fit_the_budget_and_each_has_a_model_card():
    total = sum(path.stat().st_size for path in pretrained.assets_dir().iterdir())
    # ten models of at most 5 MB and lesson 16's transformer (7.5 MB): a wheel that Colab's pip
    # fetches in seconds
    assert total <= 40e6, f"pretrained assets are {total / 1e6:.1f} MB, the budget is 40 MB"
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


def test_model_cards_carry_no_lab_notes():
    "A card describes the model, not the machine or the session that trained it."
    import re

    lab_note = re.compile(
        r"/work/|/tmp/|/home/|/root/|by hand|build machine|for lack of time|session that|"
        r"other jobs|re-saved|was not on the machine"
    )
    for name in pretrained.available():
        found = lab_note.search(pretrained.model_card(name))
        assert found is None, f"the model card of {name} has a lab note: {found.group()!r}"
        command = re.search(r"\*\*Command:\*\* `([^`]+)`", pretrained.model_card(name)).group(1)
        assert command.startswith("gan-lessons train ") and " --out runs/" in command, command


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
        match="expected one of audio-gan-tones, audio-waveform-tones, cgan-mnist, "
        "char-gpt-shakespeare, char-lstm-frankenstein, dcgan-mnist, dcgan-mnist-deskewed, "
        "diffusion-mnist, mnist-classifier, vae-mnist, wgan-gp-mnist",
    ):
        pretrained.load("dcgan-cifar")
    with pytest.raises(PretrainedError, match="holds no model.keras"):
        pretrained.load(tmp_path)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(PretrainedError, match="could not load .*broken.keras"):
        pretrained.load(broken)


def test_every_shipped_model_has_a_record_that_load_reads():
    for name in pretrained.available():
        info = pretrained.read_model_info(pretrained.model_path(name))
        assert info is not None and info["kind"] == PRETRAINED[name]["kind"], name
        model = pretrained.load(name)
        assert model.kind == info["kind"]
        if info["kind"] != "classifier" and info["kind"] != "text-generator":
            assert model.latent_dim == info["latent_dim"] == model.inputs[0].shape[-1]


def test_a_model_without_a_record_is_described_from_its_structure(tmp_path):
    "Files saved before records existed keep loading: the record is read off the model."
    import shutil

    for name in ("cgan-mnist", "audio-gan-tones", "mnist-classifier"):
        bare = tmp_path / f"{name}.keras"
        shutil.copyfile(pretrained.model_path(name), bare)
        assert pretrained.read_model_info(bare) is None
        model = pretrained.load(bare)
        assert model.kind == PRETRAINED[name]["kind"], name


def test_shipped_benchmark_rows_load_with_the_fields_the_lessons_plot():
    variants = pretrained.benchmark_rows("gan_variants.jsonl")
    assert {row["variant"] for row in variants} == {"dcgan", "wgan", "wgan-gp", "sngan"}
    assert all(
        {"seconds", "generator_steps", "classifier_score", "fcd", "min_class", "max_class"}
        <= set(row)
        for row in variants
    )
    recipes = pretrained.benchmark_rows("recipe_search.jsonl")
    assert {"plain", "fast"} <= {row["name"] for row in recipes}
    assert all(
        {"name", "seconds", "steps", "classifier_score", "fcd", "min_class"} <= set(row)
        for row in recipes
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


def test_every_card_gives_a_command_this_command_line_takes():
    "A card's command must still reproduce its model: a renamed or dropped flag fails here."
    import re

    from gan_lessons.cli import build_parser

    for name in pretrained.available():
        command = re.search(r"\*\*Command:\*\* `([^`]+)`", pretrained.model_card(name)).group(1)
        argv = command.split()[1:]
        args = build_parser(argv).parse_args(argv)
        assert args.command == "train" and command.split()[2] == args.model, command


def test_every_shipped_model_holds_its_targets_on_the_numbers_recorded_for_its_file():
    """Each record's measurement belongs to the file beside it (sha-256) and meets the model's
    required targets: the release measurement, checked in milliseconds (`make models` redoes it)."""
    assert set(model_cards.TARGETS) == set(PRETRAINED)
    for name in pretrained.available():
        assert model_cards.record_problems(name) == [], name
        numbers = model_cards.headline(pretrained.read_model_info(pretrained.model_path(name))[
            "measured"]["reports"])  # fmt: skip
        assert {target.metric for target in model_cards.TARGETS[name]} <= set(numbers), name


def _copy_of(name, folder):
    "A shipped model's file and record, copied into `folder`."
    import shutil

    copy = folder / f"{name}.keras"
    shutil.copyfile(pretrained.model_path(name), copy)
    shutil.copyfile(
        pretrained.model_info_path(pretrained.model_path(name)), copy.with_suffix(".json")
    )
    return copy


def test_a_weight_file_changed_without_its_record_is_caught(tmp_path):
    copy = _copy_of("dcgan-mnist", tmp_path)
    assert model_cards.record_problems("dcgan-mnist", copy) == []
    tampered = bytearray(copy.read_bytes())
    tampered[len(tampered) // 2] ^= 1  # one bit of the weights
    copy.write_bytes(bytes(tampered))
    problems = model_cards.record_problems("dcgan-mnist", copy)
    assert len(problems) == 1 and "changed since its numbers were measured" in problems[0]
    assert "benchmarks/shipped_models.py dcgan-mnist --record" in problems[0]


def test_a_record_missing_its_numbers_a_report_or_a_target_is_refused(tmp_path):
    import json

    copy = _copy_of("cgan-mnist", tmp_path)
    record_path = copy.with_suffix(".json")
    record = json.loads(record_path.read_text())
    record["measured"]["reports"]["evaluate"]["fcd_ratio"] = 2.5
    record_path.write_text(json.dumps(record))
    problems = model_cards.record_problems("cgan-mnist", copy)
    assert problems == ["cgan-mnist: fcd_ratio is 2.5, not fcd_ratio ≤ 2"], problems
    del record["measured"]["reports"]["cas"]
    record_path.write_text(json.dumps(record))
    assert "lacks the ['cas'] report" in model_cards.record_problems("cgan-mnist", copy)[0]
    del record["measured"]
    record_path.write_text(json.dumps(record))
    assert "holds no measured numbers" in model_cards.record_problems("cgan-mnist", copy)[0]


def test_every_card_quotes_the_numbers_of_its_record():
    for name in pretrained.available():
        assert model_cards.card_metrics(name) in pretrained.model_card(name), name


def test_every_image_model_records_the_images_it_trained_on_and_its_card_says_the_same():
    "The split is a field of the record (lesson 15 reads it); the card's words give its numbers."
    image_models = [name for name in pretrained.available() if name.endswith("mnist")]
    assert image_models and "mnist-classifier" in pretrained.available()
    for name in [*image_models, "mnist-classifier"]:
        trained_on = pretrained.read_model_info(pretrained.model_path(name))["trained_on"]
        start, last = trained_on["start"], trained_on["stop"] - 1
        data_line = next(line for line in pretrained.model_card(name).splitlines()
                         if "Data and split" in line)  # fmt: skip
        assert f"images {start:,}–{last:,}" in data_line, (name, data_line)
        assert trained_on["collection"] == "MNIST test split" and "MNIST test" in data_line, name


def test_headline_numbers_and_targets_read_the_reports_as_defined():
    reports = {
        "evaluate": {"fcd_ratio": 1.5, "class_fractions": [0.08, 0.12], "n_samples": 10,
                     "generated_medians": {"flatness": 0.01, "centroid_hz": 690.0},
                     "real_medians": {"flatness": 1e-9, "centroid_hz": 600.0}, "data": "x"},
        "cas": {"cas": 0.96, "real_accuracy": 0.95, "gap": -0.01},
    }  # fmt: skip
    numbers = model_cards.headline(reports)
    assert numbers["smallest_class_share"] == 0.08 and numbers["largest_class_share"] == 0.12
    assert numbers["centroid_off_by"] == 0.15 and numbers["median_flatness"] == 0.01
    assert numbers["cas_gap"] == 0.01 and "data" not in numbers
    assert model_cards.Target("centroid_off_by", "≤", 0.15).met(numbers)
    assert not model_cards.Target("fcd_ratio", "≤", 1.2).met(numbers)
    with pytest.raises(ValueError, match="op must be"):
        model_cards.Target("fcd_ratio", "<", 1.2)


def test_the_measurement_command_sees_a_number_that_moved(monkeypatch):
    "benchmarks/shipped_models.py: a fresh measurement beside the record, row by row."
    import copy
    import sys

    sys.path.insert(0, str(pretrained.assets_dir().parents[1] / "benchmarks"))
    import shipped_models

    reports = pretrained.read_model_info(pretrained.model_path("vae-mnist"))["measured"]["reports"]
    rows, ok = shipped_models.compare("vae-mnist", reports, tolerance=0.01)
    assert ok and all(row["steady"] for row in rows)
    moved = copy.deepcopy(reports)
    moved["evaluate"]["fcd"] *= 1.05
    rows, ok = shipped_models.compare("vae-mnist", moved, tolerance=0.01)
    assert not ok and [row["metric"] for row in rows if not row["steady"]] == ["fcd"]
    card = "# m\n\n## Metrics\n\nold\n\n## Limitations\n\nnone\n"
    assert shipped_models.with_card_metrics(card, "## Metrics\n\nnew\n") == (
        "# m\n\n## Metrics\n\nnew\n\n## Limitations\n\nnone\n"
    )
