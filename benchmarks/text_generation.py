"""Lesson 11's targets, measured in one run:

  (a) held-out cross-entropy (nats and bits per character) of the shipped `char-lstm-frankenstein`
      on the last 10 % of Frankenstein (target ≤ 1.45 nats/char), beside the context-of-one model —
      the same network trained on pairs of characters, measured the same way with the one character
      of context it was trained with — and the counting baselines (uniform, character frequencies,
      pair counts);
  (b) generation speed for --length characters after a 100-character prompt: stateful (one LSTM step
      per character, state carried forward) against re-feeding the last 100 characters for every new
      one (target ≥ 10×).

    .venv/bin/python benchmarks/text_generation.py [--length 1000] [--pair-epochs 3] \
        [--results FILE.jsonl]

Needs Frankenstein through `load_text` (e.g. GAN_LESSONS_DATA). Prints a table; --results appends
one JSON row.
"""

import argparse
import json
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from gan_lessons import pretrained  # noqa: E402
from gan_lessons.corpora import (  # noqa: E402
    char_windows,
    load_text,  # noqa: E402
    split_text,
)
from gan_lessons.setup import runtime_report  # noqa: E402
from gan_lessons.text import (
    CharGenerator,
    bits_per_char,
    build_char_lstm,
    compile_char_model,
    heldout_nats_per_char,
    ngram_nats_per_char,
)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--length", type=int, default=1000, help="characters to generate each way (default 1000)"
    )
    parser.add_argument(
        "--pair-epochs", type=int, default=3, help="epochs of the context-of-one model (default 3)"
    )
    parser.add_argument("--results", help="append the measured row to this .jsonl file")
    args = parser.parse_args()

    model = pretrained.load("char-lstm-frankenstein")
    vocabulary, details = model.vocabulary, model.text_details
    train_text, heldout_text = split_text(load_text(details["text"]), details["heldout_fraction"])
    train_ids, heldout_ids = (
        vocabulary.encode(train_text),
        vocabulary.encode(heldout_text, unseen="replace"),
    )
    row = {"heldout_characters": len(heldout_ids), "runtime": runtime_report()}

    start = time.perf_counter()
    row["lstm_nats"] = heldout_nats_per_char(model, heldout_ids, details["window"])
    row["lstm_eval_seconds"] = time.perf_counter() - start
    keras.utils.set_random_seed(0)
    pair_model = compile_char_model(
        build_char_lstm(len(vocabulary), name="pair_lstm"), learning_rate=1e-2
    )
    start = time.perf_counter()
    pair_model.fit(
        char_windows(train_ids, window=1, batch_size=256),
        epochs=args.pair_epochs,
        verbose=2,
        shuffle=False,
    )
    row["pair_train_seconds"] = time.perf_counter() - start
    row["pair_nats"] = heldout_nats_per_char(pair_model, heldout_ids, context=1)
    row["pair_counts_nats"] = ngram_nats_per_char(
        train_ids, heldout_ids, len(vocabulary), context=1
    )
    row["frequencies_nats"] = ngram_nats_per_char(
        train_ids, heldout_ids, len(vocabulary), context=0
    )
    row["uniform_nats"] = math.log(len(vocabulary))

    generator = CharGenerator(model, vocabulary, window=details["window"])
    prompt = train_text[: details["window"]]
    for method in ("stateful", "refeed"):
        generator.generate(prompt, 5, method=method)  # tracing is not generation
        start = time.perf_counter()
        generated = generator.generate(prompt, args.length, seed=0, method=method)
        row[f"{method}_seconds"] = time.perf_counter() - start
        row[f"{method}_sample"] = generated[len(prompt) : len(prompt) + 80]
    row["speedup"] = row["refeed_seconds"] / row["stateful_seconds"]
    row["length"] = args.length

    print(
        f"\nheld-out: the last {details['heldout_fraction']:.0%} of {details['text']} "
        f"({row['heldout_characters']:,} characters)"
    )
    print(f"{'model':48s} {'nats/char':>9s} {'bits/char':>9s}")
    for name, key in (
        ("char-lstm-frankenstein (100 characters context)", "lstm_nats"),
        (f"same network on pairs ({args.pair_epochs} epochs, context 1)", "pair_nats"),
        ("pair counts (the best any context-1 model does)", "pair_counts_nats"),
        ("character frequencies (context 0)", "frequencies_nats"),
        ("uniform", "uniform_nats"),
    ):
        print(f"{name:48s} {row[key]:9.3f} {bits_per_char(row[key]):9.3f}")
    print(f"target ≤ 1.45 nats/char: {'met' if row['lstm_nats'] <= 1.45 else 'NOT met'}")
    print(f"\ngeneration of {args.length} characters after a {len(prompt)}-character prompt:")
    for method in ("stateful", "refeed"):
        print(
            f"  {method:9s} {row[f'{method}_seconds']:7.2f} s  "
            f"{args.length / row[f'{method}_seconds']:8.0f} characters/s"
        )
    print(
        f"  stateful is {row['speedup']:.1f}× faster (target ≥ 10×: "
        f"{'met' if row['speedup'] >= 10 else 'NOT met'})"
    )
    print(f"  pair model trained in {row['pair_train_seconds']:.0f} s")
    if args.results:
        with open(args.results, "a", encoding="utf-8") as file:
            file.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
