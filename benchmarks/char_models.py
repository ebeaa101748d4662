"""Lesson 16's comparison: lesson 11's LSTM, lesson 16's GPT and nanoGPT's CPU "baby"
configuration rebuilt in Keras, each trained from scratch on the same corpus for the same CPU
seconds and scored at checkpoints (clock stopped) on the held-out tail in nats per character.

    .venv/bin/python benchmarks/char_models.py --threads 1 --checkpoints 300 600 1200 \
        --models lstm gpt nanogpt-baby --seeds 0 1 --results gan_lessons/assets/char_models.jsonl

The clock is this process's CPU time (`time.process_time`, as the lever scripts of lessons 09 and
12), which leaves out the time it waits for a core. Each model keeps its own recipe: the LSTM lesson
11's (Adam 3e-3, windows of 100, batches of 32); the GPT lesson 16's (AdamW, warm-up, cosine decay,
windows of 100, batches of 32); the baby nanoGPT's `train_shakespeare_char.py` with its CPU
overrides (4 layers, 4 heads, 128 wide, context 64, batches of 12, no dropout, learning rate 1e-3
decayed to 1e-4). A schedule that decays is sized, from a timed start, to end at the last
checkpoint: the shorter budgets are read off the same run. Each model's first step, which compiles
it (XLA), counts against its budget. One JSON row per checkpoint, appended as it is measured.
"""

import argparse
import json
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lessons.checkpoints import EpochSeededBatches  # noqa: E402
from gan_lessons.corpora import load_text, split_chunk, split_text, window_chunks  # noqa: E402
from gan_lessons.text import (  # noqa: E402
    TEXT_HELDOUT_FRACTION,
    CharVocabulary,
    build_char_lstm,
    compile_char_model,
    heldout_nats_per_char,
)
from gan_lessons.transformer import GPT_SHAPE, build_char_gpt, compile_char_gpt  # noqa: E402
from gan_lessons.wasserstein import TrainingClock  # noqa: E402

BABY = dict(blocks=4, heads=4, width=128, dropout=0.0)  # nanoGPT's CPU overrides
MODELS = {  # name: (window, batch size, build(vocab_size, total_steps))
    "lstm": (100, 32, lambda vocab, steps: compile_char_model(build_char_lstm(vocab))),
    "gpt": (100, 32, lambda vocab, steps: compile_char_gpt(
        build_char_gpt(vocab, 100, **GPT_SHAPE), total_steps=steps)),
    "nanogpt-baby": (64, 12, lambda vocab, steps: compile_char_gpt(
        build_char_gpt(vocab, 64, **BABY), total_steps=steps, learning_rate=1e-3)),
}  # fmt: skip


def steps_per_cpu_second(name, vocab_size, train_ids, probe_steps=30):
    "How many training steps of `name` one CPU second buys here (XLA compilation left out)."
    window, batch_size, build = MODELS[name]
    model = build(vocab_size, 10_000)
    chunks = window_chunks(train_ids[: (probe_steps + 5) * batch_size * window + 1], window)
    inputs, targets = split_chunk(chunks)
    model.fit(inputs[:batch_size], targets[:batch_size], batch_size=batch_size, verbose=0)
    start = time.process_time()
    model.fit(inputs, targets, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    return math.ceil(len(inputs) / batch_size) / (time.process_time() - start)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoints", type=float, nargs="+", default=[300, 600, 1200])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--text", default="tinyshakespeare")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads (0: all)")
    parser.add_argument("--results", default=None, help="append the JSON rows to this file")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    train_text, heldout_text = split_text(load_text(args.text), TEXT_HELDOUT_FRACTION)
    vocabulary = CharVocabulary.from_text(train_text)
    train_ids = vocabulary.encode(train_text)
    heldout_ids = vocabulary.encode(heldout_text, unseen="replace")
    for name in args.models:
        window, batch_size, build = MODELS[name]
        rate = steps_per_cpu_second(name, len(vocabulary), train_ids)
        total_steps = math.ceil(rate * max(args.checkpoints))
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            model = build(len(vocabulary), total_steps)

            def measure(seconds, steps, model, name=name, seed=seed, window=window,
                        batch_size=batch_size, total_steps=total_steps):  # fmt: skip
                nats = heldout_nats_per_char(model, heldout_ids, context=window)
                row = dict(
                    model=name, seed=seed, text=args.text, cpu_seconds=round(seconds),
                    steps=steps, characters_seen=steps * batch_size * window,
                    heldout_nats_per_char=round(nats, 4),
                    heldout_bits_per_char=round(nats / math.log(2), 4),
                    parameters=model.count_params(), context=window, batch_size=batch_size,
                    scheduled_steps=total_steps, threads=args.threads or None,
                )  # fmt: skip
                print(json.dumps(row), flush=True)
                if args.results:  # as it is measured: a run cut short keeps its rows
                    with open(args.results, "a", encoding="utf-8") as file:
                        file.write(json.dumps(row) + "\n")

            batches = EpochSeededBatches(
                window_chunks(train_ids, window), batch_size, seed, transform=split_chunk
            )
            clock = TrainingClock(args.checkpoints, measure, clock=time.process_time)
            model.fit(batches.dataset, epochs=100_000, verbose=0, shuffle=False,
                      callbacks=[batches.callback, clock])  # fmt: skip


if __name__ == "__main__":
    main()
