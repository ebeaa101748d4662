"""Lesson 09's comparison at a longer budget: DCGAN (fast recipe), WGAN (clipping), WGAN-GP and
SN-GAN, each trained from scratch for the same seconds, scored at checkpoints (clock stopped) on
2,000 samples of the weight average with the shipped `mnist-classifier`: classifier score, FCD,
class fractions, generator steps.

    .venv/bin/python benchmarks/gan_variants.py --checkpoints 60 120 240 \
        --results gan_lessons/assets/gan_variants.jsonl

`--clock cpu --threads 1` counts this process's CPU time instead of wall time, which leaves out
the time it waits for a core (caches and memory shared with a neighbour still slow it a little).
One JSON row per checkpoint.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from gan_lessons import pretrained  # noqa: E402
from gan_lessons.data import load_mnist, scale_images  # noqa: E402
from gan_lessons.evaluation import ImageMetrics  # noqa: E402
from gan_lessons.recipes import build_dcgan  # noqa: E402
from gan_lessons.wasserstein import build_wgan, train_on_clock  # noqa: E402

VARIANTS = ("dcgan", "wgan", "wgan-gp", "sngan")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoints", type=float, nargs="+", default=[60, 120, 240])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--recipe", choices=("fast", "full"), default="fast")
    parser.add_argument("--results", default=None, help="append the JSON rows to this file")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all)")
    args = parser.parse_args()
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    train, heldout = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    print(f"data: {heldout.note}")
    metrics = ImageMetrics(
        pretrained.load("mnist-classifier"),
        scale_images(heldout.images),
        scale_images(train.images),
    )
    noise = keras.random.normal((2000, 100), seed=4)
    for variant in args.variants:
        gan = (
            build_dcgan(args.recipe, seed=0)
            if variant == "dcgan"
            else build_wgan(variant, args.recipe, seed=0)
        )
        rows = []

        def score(seconds, steps, model, variant=variant, rows=rows):
            scores = metrics.scores(model.sampler(noise, training=False).numpy())
            row = dict(
                variant=variant,
                recipe=args.recipe,
                seconds=seconds,
                clock=args.clock,
                generator_steps=steps,
                classifier_score=round(scores["classifier_score"], 3),
                fcd=round(scores["fcd"], 2),
                min_class=min(scores["class_fractions"]),
                max_class=max(scores["class_fractions"]),
            )
            print(json.dumps(row), flush=True)
            rows.append(row)

        train_on_clock(gan, train.images, args.checkpoints, score, clock=clock)
        if args.results:
            with open(args.results, "a", encoding="utf-8") as file:
                file.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
