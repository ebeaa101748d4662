"""Lesson 16: the attention layer against Keras's, causality of the model, the KV cache against
recomputing, the mask checker's messages, and char-gpt on the command line."""

import json
import math

import keras
import numpy as np
import pytest

from gan_lessons.exercises import ExerciseError
from gan_lessons.exercises_attention import check_causal_mask
from gan_lessons.text import CharVocabulary
from gan_lessons.transformer import (
    CausalSelfAttention,
    GPTGenerator,
    attention_maps,
    block_layers,
    build_char_gpt,
    read_window,
)

SMALL = dict(context=12, blocks=2, heads=2, width=16, dropout=0.0)
VOCABULARY = CharVocabulary("abcdefgh ")


def test_the_layer_computes_what_keras_multi_head_attention_computes_with_a_causal_mask():
    heads, width = 2, 8
    ours = CausalSelfAttention(heads)
    x = keras.random.normal((2, 5, width), seed=3)
    ours(x)
    theirs = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=width // heads)
    theirs(x, x, use_causal_mask=True)
    kernel, bias = ours.qkv.get_weights()
    weights = []
    for part_kernel, part_bias in zip(np.split(kernel, 3, axis=1), np.split(bias, 3)):
        weights += [part_kernel.reshape(width, heads, -1), part_bias.reshape(heads, -1)]
    project_kernel, project_bias = ours.project.get_weights()
    theirs.set_weights([*weights, project_kernel.reshape(heads, -1, width), project_bias])
    expected = theirs(x, x, use_causal_mask=True)
    np.testing.assert_allclose(ours(x), expected, atol=1e-5)
    unmasked = theirs(x, x)  # without the mask they differ: the comparison can fail
    assert np.abs(np.asarray(unmasked) - np.asarray(expected)).max() > 1e-3


def test_no_position_of_the_model_reads_a_later_character():
    keras.utils.set_random_seed(0)
    model = build_char_gpt(len(VOCABULARY), **SMALL)
    ids = np.arange(1, 11)[None] % len(VOCABULARY)
    changed = ids.copy()
    changed[0, 6:] = 1
    before, after = np.asarray(model(ids)), np.asarray(model(changed))
    np.testing.assert_allclose(before[0, :6], after[0, :6], atol=1e-6)
    assert np.abs(before[0, 6:] - after[0, 6:]).max() > 1e-4


def test_the_cache_gives_the_logits_and_the_text_of_recomputing_across_window_refills():
    keras.utils.set_random_seed(1)
    model = build_char_gpt(len(VOCABULARY), **SMALL)
    generator = GPTGenerator(model, VOCABULARY)
    window = list(VOCABULARY.encode("abc defg"))
    logits, cache = generator.prefill(window[:3])  # three characters in one pass, then one by one
    np.testing.assert_allclose(logits.numpy(), generator.recompute_logits(window[:3]), atol=1e-5)
    for position, index in enumerate(window[3:], start=3):
        logits, cache = generator.step(index, position, cache)
    np.testing.assert_allclose(logits.numpy(), generator.recompute_logits(window), atol=1e-5)
    whole = np.asarray(model(np.array([window])))
    layer_by_layer, _, _ = read_window(model, block_layers(model), np.array([window]))
    np.testing.assert_allclose(np.asarray(layer_by_layer), whole, atol=1e-5)
    # 40 characters through a window of 12: the window is refilled several times
    texts = {
        method: generator.generate("ab", 40, temperature=1.0, seed=2, method=method)
        for method in ("cached", "recompute")
    }
    assert texts["cached"] == texts["recompute"] and len(texts["cached"]) == 42
    with pytest.raises(ValueError, match="method must be 'cached' or 'recompute'"):
        generator.generate("ab", 3, method="stateful")


def test_attention_maps_are_causal_distributions():
    keras.utils.set_random_seed(2)
    model = build_char_gpt(len(VOCABULARY), **SMALL)
    maps = attention_maps(model, VOCABULARY.encode("abc dd"))
    assert maps.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(maps.sum(-1), 1, atol=1e-5)
    assert np.abs(np.triu(maps, 1)).max() < 1e-6


def causal(steps):
    return np.tril(np.ones((steps, steps), dtype=bool))


@pytest.mark.parametrize(
    "slip, message",
    [
        (lambda steps: np.ones((steps, steps), bool), "no mask"),
        (lambda steps: np.tril(np.ones((steps, steps), bool), -1), "the diagonal is masked too"),
        (lambda steps: causal(steps).T, "the wrong triangle"),
        (lambda steps: np.tril(np.ones((steps, steps), bool), -1).T, "the wrong triangle"),
        (lambda steps: causal(steps + 1), "expected shape"),
        (lambda steps: causal(steps).astype(int), "expected a boolean array"),
        (lambda steps: causal(steps) & ~np.eye(steps, k=-2, dtype=bool), "row 2, column 0"),
    ],
)
def test_the_mask_checker_names_each_slip(slip, message):
    with pytest.raises(ExerciseError, match=message):
        check_causal_mask(slip)


def test_the_mask_checker_passes_the_mask_and_waits_for_an_attempt(capsys):
    assert check_causal_mask(causal)
    assert check_causal_mask(lambda steps: None) is False
    assert "not attempted" in capsys.readouterr().out


@pytest.mark.slow  # trains char-gpt (1.8 M parameters) from the command line for one short epoch
def test_train_sample_and_evaluate_char_gpt_from_the_command_line(
    with_data, tmp_path, run_cli, monkeypatch
):
    from gan_lessons import text_commands
    from gan_lessons.corpora import Corpus, load_text

    def short(name, **kwargs):  # the held-out tail is scored after the epoch: a short text
        return Corpus(load_text(name, **kwargs)[:30_000], "the play's first 30,000 characters")

    monkeypatch.setattr(text_commands, "load_text", short)
    run = str(tmp_path / "run")
    code, out, err = run_cli(["train", "char-gpt", "--out", run, "--epochs", "1"])
    assert code == 0, err
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["model"] == "char-gpt" and record["shape"]["blocks"] == 4
    assert record["heldout_nats_per_char"] < math.log(66)  # better than guessing uniformly
    code, out, err = run_cli(["sample", run, "--prompt", "ROMEO:", "--length", "30"])
    assert code == 0 and out.startswith("ROMEO:") and len(out.rstrip("\n")) == 36, err
    code, out, err = run_cli(["evaluate", run, "--json"])
    assert code == 0 and json.loads(out)["heldout_characters"] == 3_000, err
    code, _, err = run_cli(["sample", run, "--prompt", "Ωmega"])
    assert code == 2 and "never saw: 'Ω'" in err


def test_blocks_are_found_whichever_class_the_attention_layer_is(monkeypatch):
    "A notebook that defines the layer class again holds models of two classes (lesson 16 does)."
    from gan_lessons import transformer

    keras.utils.set_random_seed(3)
    model = build_char_gpt(len(VOCABULARY), **SMALL)
    monkeypatch.setattr(
        transformer, "CausalSelfAttention", type("Other", (keras.layers.Layer,), {})
    )
    assert len(block_layers(model)) == 2
    ids = np.array([list(VOCABULARY.encode("abc dd"))])
    logits, _, _ = read_window(model, block_layers(model), ids)
    np.testing.assert_allclose(np.asarray(logits), np.asarray(model(ids)), atol=1e-5)


def test_the_equal_cpu_time_rows_are_there_for_lesson_16():
    from gan_lessons.files import benchmark_rows

    rows = benchmark_rows("char_models.jsonl")
    measured = {(row["model"], row["seed"], row["cpu_seconds"]) for row in rows}
    models, seeds = {key[0] for key in measured}, {key[1] for key in measured}
    budgets = {key[2] for key in measured}
    assert models == {"lstm", "gpt", "nanogpt-baby"} and len(seeds) >= 2 and len(budgets) >= 3
    # every model at every budget with every seed: the lesson compares means over the same seeds
    assert len(measured) == len(rows) == len(models) * len(seeds) * len(budgets)
    assert {row["text"] for row in rows} == {"tinyshakespeare"}
    assert all(row["threads"] == 1 and 0.5 < row["heldout_nats_per_char"] < 5 for row in rows)
