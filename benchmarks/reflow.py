"""Lesson 14's reflow at equal CPU time: does one round of reflow (Liu et al. 2023) make the shipped
flow model's few-step samples better than the same CPU time spent training it on?

    .venv/bin/python benchmarks/reflow.py --arm reflow --threads 1 --budgets 600 1200 \
        --results gan_lessons/assets/diffusion_reflow.jsonl
    .venv/bin/python benchmarks/reflow.py --arm continued --threads 1 --budgets 600 1200 \
        --results gan_lessons/assets/diffusion_reflow.jsonl

Both arms start from `diffusion-mnist`'s weight average, with the recipe's optimizer at a
fine-tuning learning rate (`--learning-rate`) and a faster weight average (`--ema-decay`, so that
a short run's average has moved). `continued` trains on with the recipe's objective on the
training digits. `reflow` first draws `--pairs` noise images with
balanced labels and carries each to its endpoint with the shipped sampler (Heun, `--pair-steps`),
then trains on those pairs; the pairs' CPU time counts against its budget. The clock is this
process's CPU time (`time.process_time`); `--threads 1` keeps two arms run side by side from
sharing threads. At each budget the weight average samples with Euler at 1, 2 and 4 steps (plain
conditional, one network evaluation per step), measured as `trilemma.py` measures: `--n` samples
against as many held-out digits, with the bootstrap sd of the FCD ratio and classifier score.
`--arm reflow` also writes the starting model's rows first (`arm: before`, 0 CPU-s).
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from trilemma import Measure  # noqa: E402  (this folder's script: the same instruments)

from gan_lessons import pretrained  # noqa: E402
from gan_lessons.data import load_mnist  # noqa: E402
from gan_lessons.diffusion import (  # noqa: E402
    IMAGE_SHAPE,
    FlowMatching,
    Reflow,
    continue_from,
    flow_sampler,
    reflow_pairs,
)
from gan_lessons.training import EpochSeededImages  # noqa: E402
from gan_lessons.wasserstein import TrainingClock  # noqa: E402

SAMPLER_STEPS = (1, 2, 4)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arm", choices=("reflow", "continued"), required=True)
    parser.add_argument("--budgets", type=float, nargs="+", default=[600, 1200])
    parser.add_argument("--pairs", type=int, default=6000)
    parser.add_argument("--pair-steps", type=int, default=8, help="Heun steps that make a pair")
    parser.add_argument("--ema-decay", type=float, default=0.99)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--bootstrap", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default=None, help="append the JSON rows to this file")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    measure = Measure(args.bootstrap)
    start = pretrained.load("diffusion-mnist").get_layer("flow_sampler").network
    changes = dict(ema_decay=args.ema_decay, learning_rate=args.learning_rate)
    common = dict(n=args.n, **changes, threads=args.threads or None)

    def write(row):
        print(json.dumps({k: v for k, v in row.items() if k != "class_fractions"}), flush=True)
        if args.results:
            with open(args.results, "a", encoding="utf-8") as file:
                file.write(json.dumps(row) + "\n")

    def measure_network(network, arm, cpu_seconds, steps, extra):
        for sampler_steps in SAMPLER_STEPS:
            sampler = flow_sampler(network, sampler_steps, "euler", 1.0)
            row = dict(arm=arm, cpu_seconds=round(cpu_seconds), training_steps=steps,
                       sampler_steps=sampler_steps, **common, **extra)  # fmt: skip
            write({**row, **measure(sampler, args.n)})

    clock_started = time.process_time()
    extra = {}
    if args.arm == "reflow":
        measure_network(start, "before", 0, 0, {})
        clock_started = time.process_time()
        rng = np.random.default_rng(args.seed)
        noise = rng.normal(size=(args.pairs, *IMAGE_SHAPE)).astype("float32")
        labels = np.arange(args.pairs) % 10
        endpoints = reflow_pairs(start, noise, labels, args.pair_steps, "heun", 1.0)
        pair_seconds = time.process_time() - clock_started
        print(f"{args.pairs} pairs in {pair_seconds:.0f} CPU-s", flush=True)
        extra = dict(pairs=args.pairs, pair_sampler=f"heun, {args.pair_steps} steps",
                     pair_cpu_seconds=round(pair_seconds))  # fmt: skip
        model = continue_from(start, Reflow, args.seed, **changes)
        dataset = (
            tf.data.Dataset.from_tensor_slices((noise, endpoints, labels.astype("int32")))
            .shuffle(args.pairs, seed=args.seed, reshuffle_each_iteration=True)
            .batch(128, drop_remainder=True)
        )
        callbacks = []
    else:
        pair_seconds = 0.0
        train = load_mnist("train", verbose=False)
        model = continue_from(start, FlowMatching, args.seed, **changes)
        batches = EpochSeededImages(train.images, 128, args.seed, train.labels)
        dataset, callbacks = batches.dataset, [batches.callback]

    def on_checkpoint(seconds, steps, trained):
        measure_network(trained.average, args.arm, seconds + pair_seconds, steps, extra)

    budgets = [budget - pair_seconds for budget in args.budgets]
    clock = TrainingClock(budgets, on_checkpoint, clock=time.process_time)
    model.fit(dataset, epochs=100_000, verbose=0, shuffle=False, callbacks=[*callbacks, clock])


if __name__ == "__main__":
    main()
