"""Lesson 11: the character vocabulary, windows, measuring, sampling and stateful generation; the
shipped text model and the command line on it."""

import json
import math

import keras
import numpy as np
import pytest

from gan_lessons.corpora import char_windows, split_text
from gan_lessons.data import DataError
from gan_lessons.text import (
    UNKNOWN,
    CharGenerator,
    CharVocabulary,
    bits_per_char,
    build_char_lstm,
    heldout_nats_per_char,
    ngram_nats_per_char,
    sample_from_logits,
)

TEXT = "It was on a dreary night of November that I beheld the accomplishment of my toils.\n" * 3


def test_the_vocabulary_round_trips_and_reserves_id_zero():
    vocabulary = CharVocabulary.from_text(TEXT)
    ids = vocabulary.encode(TEXT)
    assert vocabulary.decode(ids) == TEXT and ids.dtype == np.int32
    assert ids.min() == 1 and ids.max() == len(vocabulary) - 1 == len(set(TEXT))
    with pytest.raises(ValueError, match=r"ids must be in \[0, "):
        vocabulary.decode([len(vocabulary)])


def test_unseen_characters_are_named_or_replaced_and_never_sampled():
    vocabulary = CharVocabulary.from_text(TEXT)
    with pytest.raises(DataError, match=r"never seen in training: 'Zq'"):
        vocabulary.encode("Zq the")
    replaced = vocabulary.encode("Zq the", unseen="replace")
    assert replaced[:2].tolist() == [0, 0] and vocabulary.decode(replaced) == UNKNOWN * 2 + " the"
    logits = np.zeros((500, len(vocabulary)))
    logits[:, 0] = 50.0  # even a model that wanted the unknown id does not get it
    assert 0 not in sample_from_logits(logits, 1.0, rng=np.random.default_rng(0))


def test_empty_and_too_short_texts_give_clear_errors():
    with pytest.raises(DataError, match="empty text"):
        CharVocabulary.from_text("")
    with pytest.raises(DataError, match="cannot be split"):
        split_text("a")
    with pytest.raises(DataError, match="fewer than one window needs"):
        char_windows(np.arange(1, 51), window=50)
    with pytest.raises(DataError, match="at least 2 characters"):
        heldout_nats_per_char(None, [3])


def test_the_heldout_part_is_the_tail_and_never_overlaps_training():
    train, heldout = split_text(TEXT, 0.1)
    assert train + heldout == TEXT and len(heldout) == round(len(TEXT) * 0.1)


@pytest.mark.parametrize("window, stride", [(10, None), (7, 3), (1, None)])
def test_windows_are_aligned_target_is_input_shifted_by_one(window, stride):
    ids = np.arange(
        1, 101, dtype=np.int32
    )  # position i holds i + 1, so alignment is visible in the values
    batches = list(char_windows(ids, window=window, batch_size=4, stride=stride, shuffle=False))
    inputs = np.concatenate([batch[0].numpy() for batch in batches])
    targets = np.concatenate([batch[1].numpy() for batch in batches])
    assert inputs.shape == targets.shape == (len(range(0, 100 - window, stride or window)), window)
    np.testing.assert_array_equal(targets, inputs + 1)
    np.testing.assert_array_equal(inputs[:, 0], 1 + np.arange(len(inputs)) * (stride or window))


def test_shuffled_windows_are_the_same_windows_in_another_order():
    ids = np.arange(1, 201, dtype=np.int32)
    ordered = np.concatenate(
        [inputs.numpy() for inputs, _ in char_windows(ids, 10, 8, shuffle=False)]
    )
    shuffled = np.concatenate(
        [inputs.numpy() for inputs, _ in char_windows(ids, 10, 8, shuffle=True, seed=1)]
    )
    assert not np.array_equal(ordered, shuffled)
    np.testing.assert_array_equal(np.sort(ordered[:, 0]), np.sort(shuffled[:, 0]))


def test_temperature_to_zero_gives_the_argmax_and_top_k_limits_the_draws():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 30))
    logits[:, 0] = -np.inf
    for temperature in (0, 1e-6):
        np.testing.assert_array_equal(
            sample_from_logits(logits, temperature, rng=rng), np.argmax(logits, axis=-1)
        )
    top_two = np.argsort(logits, axis=-1)[:, -2:]
    draws = sample_from_logits(logits, 5.0, top_k=2, rng=rng)
    assert all(draw in allowed for draw, allowed in zip(draws, top_two))
    with pytest.raises(ValueError, match="temperature must be ≥ 0"):
        sample_from_logits(logits, -1)
    with pytest.raises(ValueError, match="top_k must be between 1 and 29"):
        sample_from_logits(logits, 1.0, top_k=30)


def test_sampling_follows_the_softmax():
    probabilities = np.array([0.0, 0.6, 0.3, 0.1])
    draws = sample_from_logits(
        np.log(np.tile(probabilities + 1e-12, (20_000, 1))), 1.0, rng=np.random.default_rng(1)
    )
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 20_000, probabilities, atol=0.015)


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(0)
    vocabulary = CharVocabulary.from_text(TEXT)
    return build_char_lstm(len(vocabulary), embedding_dim=8, units=(16, 12)), vocabulary


def test_stateful_and_refed_generation_give_the_same_next_character_distribution(small_model):
    model, vocabulary = small_model
    generator = CharGenerator(model, vocabulary, window=20)
    for context in (TEXT[:1], TEXT[:9], TEXT[30:50]):
        np.testing.assert_allclose(
            generator.next_logits(context),
            generator.next_logits(context, method="refeed"),
            atol=1e-5,
        )
    # with a prompt as long as the window, both methods see the same characters for the first new
    # one
    first = [
        generator.generate(TEXT[:20], 1, seed=4, temperature=0, method=method)
        for method in ("stateful", "refeed")
    ]
    assert first[0] == first[1] and len(first[0]) == 21


def test_generation_is_reproducible_and_refuses_bad_prompts(small_model):
    model, vocabulary = small_model
    generator = CharGenerator(model, vocabulary)
    assert generator.generate("It", 30, seed=1) == generator.generate("It", 30, seed=1)
    with pytest.raises(ValueError, match="prompt is empty"):
        generator.generate("", 5)
    with pytest.raises(DataError, match="never seen in training"):
        generator.generate("Xylophone", 5)
    with pytest.raises(ValueError, match="the vocabulary has"):
        CharGenerator(model, CharVocabulary("abc"))


def test_heldout_measure_scores_every_character_once_against_known_answers(small_model):
    model, vocabulary = small_model
    ids = vocabulary.encode(TEXT)
    zero = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(len(vocabulary), 1),
            keras.layers.Dense(len(vocabulary), kernel_initializer="zeros"),
        ]
    )
    for context in (1, 2, 9, 100, 1000):
        assert heldout_nats_per_char(zero, ids[:97], context) == pytest.approx(
            math.log(len(vocabulary)), abs=1e-6
        )
    # with the whole text as context the measure is the model's plain loss on the full sequence
    logits = keras.ops.convert_to_numpy(model(ids[None, :-1]))[0]
    expected = -np.mean(
        logits[np.arange(len(ids) - 1), ids[1:]] - np.log(np.exp(logits).sum(axis=-1))
    )
    assert heldout_nats_per_char(model, ids, context=len(ids)) == pytest.approx(expected, rel=1e-5)
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)


def test_counting_models_give_the_entropies_they_should():
    ids = np.array([1, 2] * 50)
    assert ngram_nats_per_char(ids, ids, 3, context=0, smoothing=1e-9) == pytest.approx(
        math.log(2), abs=1e-6
    )
    assert ngram_nats_per_char(ids, ids, 3, context=1, smoothing=1e-9) == pytest.approx(
        0.0, abs=1e-6
    )


def test_a_saved_text_model_loads_with_its_vocabulary(small_model, tmp_path):
    from gan_lessons import pretrained

    model, vocabulary = small_model
    model.save(tmp_path / "model.keras")
    from gan_lessons.pretrained import write_model_info

    details = dict(text="frankenstein", heldout_fraction=0.1, window=20)
    write_model_info(
        tmp_path / "model.keras", "text-generator", vocabulary=vocabulary.characters, **details
    )
    loaded = pretrained.load(tmp_path)
    assert (
        loaded.vocabulary.characters == vocabulary.characters
        and loaded.text_details["window"] == 20
    )
    assert not hasattr(loaded, "latent_dim")


def test_cli_evaluates_and_samples_a_text_model(with_data, run_cli, tmp_path):
    code, out, _ = run_cli(["evaluate", "char-lstm-frankenstein", "--json"])
    report = json.loads(out)
    assert code == 0 and report["heldout_bits_per_char"] == pytest.approx(
        report["heldout_nats_per_char"] / math.log(2), abs=1e-3
    )
    assert (
        report["heldout_nats_per_char"] < report["uniform_nats_per_char"]
        and report["heldout_characters"] > 40_000
    )
    argv = [
        "sample",
        "char-lstm-frankenstein",
        "--prompt",
        "It was",
        "--length",
        "40",
        "--temperature",
        "0",
    ]
    code, out, _ = run_cli(argv)
    assert (
        code == 0
        and out.startswith("It was")
        and len(out.rstrip("\n")) >= 46
        and run_cli(argv)[1] == out
    )
    code, _, _ = run_cli([*argv, "--out", str(tmp_path / "story.txt")])
    assert code == 0 and (tmp_path / "story.txt").read_text(encoding="utf-8") == out[:-1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["sample", "char-lstm-frankenstein", "--prompt", "Ωmega"],
            "never saw: 'Ω'; pass --unseen=replace",
        ),
        (["sample", "char-lstm-frankenstein", "--prompt", ""], "prompt is empty"),
        (["sample", "char-lstm-frankenstein", "--out", "x.png"], "must name a .txt file"),
        (["sample", "char-lstm-frankenstein", "--top-k", "500"], "top_k must be between 1 and"),
        (
            ["sample", "char-lstm-frankenstein", "--temperature", "-0.5"],
            "expected a number ≥ 0, got -0.5",
        ),
        (
            ["sample", "char-lstm-frankenstein", "--temperature", "nan"],
            "expected a number ≥ 0, got nan",
        ),
        (
            ["train", "char-lstm", "--out", "run", "--text", "moby"],
            "--text moby: expected frankenstein or tinyshakespeare, or a UTF-8 text file",
        ),
        (
            ["sample", "dcgan-mnist", "--out", "x.png", "--prompt", "It"],
            "--prompt does not apply to dcgan-mnist",
        ),
        (["sample", "dcgan-mnist"], "--out is required for an image model"),
        (
            ["train", "char-lstm", "--out", "run", "--images", "100"],
            "--images does not apply to char-lstm",
        ),
        (
            ["train", "dcgan", "--out", "run", "--characters", "100"],
            "--characters does not apply to dcgan",
        ),
    ],
)
def test_text_command_mistakes_exit_2_with_a_clear_message(
    argv, message, run_cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(argv)
    assert code == 2 and message in err, err
    assert not any(tmp_path.iterdir()), "nothing is written"


@pytest.mark.slow  # trains the char-LSTM from the command line and resumes it
def test_train_char_lstm_writes_a_loadable_run_and_resumes(with_data, tmp_path, run_cli):
    from gan_lessons import pretrained

    argv = ["train", "char-lstm", "--out", str(tmp_path / "run"), "--characters", "6000"]
    assert run_cli([*argv, "--epochs", "1"])[0] == 0
    code, out, _ = run_cli([*argv, "--epochs", "2"])
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert code == 0 and "resuming after epoch 1 of 2" in out and record["completed_epochs"] == 2
    assert record["heldout_nats_per_char"] < math.log(76)
    assert record["command"].endswith("--text frankenstein --characters 6000 --epochs 2")
    model = pretrained.load(tmp_path / "run")
    assert (
        model.vocabulary.characters
        == pretrained.load("char-lstm-frankenstein").vocabulary.characters
    )
    assert run_cli(["sample", str(tmp_path / "run"), "--length", "20"])[0] == 0


@pytest.mark.parametrize("trainer", ["char-lstm", "char-gpt"])
@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty; expected a text to learn from"),
        (b"caf\xe9 au lait " * 20, "not UTF-8 text"),
        (b"a short note", "fewer than one window needs"),
    ],
)
def test_own_text_that_cannot_train_exits_2_in_one_line(
    trainer, content, message, run_cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.txt").write_bytes(content)
    code, out, err = run_cli(["train", trainer, "--out", "run", "--text", "mine.txt"])
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists(), "nothing is written"


@pytest.mark.slow  # trains the LSTM for an epoch on a learner's own file, samples and evaluates it
def test_char_lstm_trains_on_a_learners_own_text_file(run_cli, tmp_path):
    from gan_lessons import pretrained

    mine = tmp_path / "letters.txt"
    mine.write_text("Dear friend, the garden is green and the river runs slow.\n" * 100)
    run = str(tmp_path / "run")
    code, _, err = run_cli(
        ["train", "char-lstm", "--out", run, "--text", str(mine), "--epochs", "1"]
    )
    assert code == 0, err
    assert pretrained.load(run).vocabulary.characters == "".join(sorted(set(mine.read_text())))
    code, out, err = run_cli(["evaluate", run, "--json"])
    held_out = round(len(mine.read_text().strip()) * 0.1)  # the last 10 %
    assert code == 0 and json.loads(out)["heldout_characters"] == held_out, err
