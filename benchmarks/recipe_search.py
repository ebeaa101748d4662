"""Score against training time for lesson 07's recipe variants, built from the library's own parts.

Each variant is lesson 05's `GAN` (or lesson 08's conditional one) with lesson 07's options, trained
from scratch by lesson 09's `train_on_clock` for a wall-clock budget; at each checkpoint the clock
stops and 2,000 samples (fixed noise; the weight average's, where the variant keeps one) are scored
with the shipped `mnist-classifier` against the held-out images. One JSON row per checkpoint is
printed and appended to --results. Variants run one after another, never in parallel, so they
share the machine alike — run it on an otherwise idle machine.

    .venv/bin/python benchmarks/recipe_search.py --checkpoints 60 120 180 240 300 \
        --results gan_lessons/assets/recipe_search.jsonl [--variants fast "fast + top-k"]
"""

# ruff: noqa: E402 (TensorFlow's log level is set before it is imported)
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from gan_lessons import pretrained
from gan_lessons.conditional import build_cgan, clustered_generator, deskew, kmeans_clusters
from gan_lessons.data import load_mnist, scale_images
from gan_lessons.discriminator import build_discriminator
from gan_lessons.evaluation import ImageMetrics
from gan_lessons.generator import build_generator
from gan_lessons.recipes import DCGAN_RECIPES, DiffAugment, TopK, WeightAverage, build_dcgan
from gan_lessons.training import GAN
from gan_lessons.wasserstein import train_on_clock

CLUSTERS = {  # a self-conditioned variant → (clusters, whether k-means sees deskewed digits)
    "fast, self-conditioned (50 clusters)": (50, False),
    "fast, self-conditioned (50 deskewed clusters)": (50, True),
    "fast, self-conditioned (100 deskewed clusters)": (100, True),
}


def plain(seed, with_average=False, batch_norm=False, learning_rate=2e-4):
    "Lesson 05's GAN at the fast recipe's width (dropout in D, Adam); optionally parts of a recipe."
    fast = DCGAN_RECIPES["fast"]
    keras.utils.set_random_seed(seed)
    discriminator = (
        build_discriminator(**fast["discriminator"])
        if batch_norm
        else build_discriminator(filters=fast["discriminator"]["filters"])
    )
    options = [WeightAverage(fast["ema_decay"])] if with_average else []
    gan = GAN(build_generator(**fast["generator"]), discriminator, seed=seed, options=options)
    optimizer = lambda: keras.optimizers.Adam(learning_rate, beta_1=0.5)
    gan.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    return gan


VARIANTS = {  # name → (what it is, builder)
    "plain": ("lesson 05's GAN, half width, Adam 2e-4", lambda seed: plain(seed)),
    "fast without R1": (
        "the fast recipe's networks (D batch norm), Adam 1e-3 and weight average, no R1",
        lambda seed: plain(seed, with_average=True, batch_norm=True, learning_rate=1e-3),
    ),
    "fast": (
        "the fast recipe: D batch norm, Adam 1e-3, R1 γ=0.1, weight average",
        lambda seed: build_dcgan("fast", seed),
    ),
    "fast + DiffAugment": (
        "the fast recipe with DiffAugment (shift 4, cutout 14) on both players' images",
        lambda seed: build_dcgan("fast", seed, options=[DiffAugment()]),
    ),
    "fast + top-k": (
        "the fast recipe with top-k training (k falls to half the batch over 2,000 updates)",
        lambda seed: build_dcgan("fast", seed, options=[TopK(0.5, anneal_steps=2000)]),
    ),
    **{
        name: (
            f"the fast recipe conditioned on {count} k-means clusters of the images' "
            + ("deskewed pixels" if deskewed else "pixels")
            + " (lesson 08)",
            lambda seed, count=count: build_cgan("fast", seed, num_classes=count),
        )
        for name, (count, deskewed) in CLUSTERS.items()
    },
}


def run(name, checkpoints, metrics, images, seed=0):
    "Train one variant on the clock; one row per checkpoint."
    description, build = VARIANTS[name]
    noise = keras.random.normal((2000, 100), seed=keras.random.SeedGenerator(1234))
    gan, labels, clustering_seconds = build(seed), None, 0.0
    sampler = lambda model: model.sampler
    if gan.conditional:  # self-conditioned: the clustering's seconds count as training time
        started = time.perf_counter()
        count, deskewed = CLUSTERS[name]
        points = deskew(scale_images(images)) if deskewed else scale_images(images)
        labels, _ = kmeans_clusters(points, count, seed=seed)
        clustering_seconds = time.perf_counter() - started
        shares = np.bincount(labels, minlength=count)
        sampler = lambda model: clustered_generator(model.sampler, shares)
    rows = []

    def score(clock_seconds, steps, model):  # the clock counts training; rows count clustering too
        scores = metrics.scores(sampler(model)(noise, training=False).numpy())
        row = dict(
            name=name,
            description=description,
            seconds=checkpoints[len(rows)],
            steps=steps,
            clustering_seconds=round(clustering_seconds, 1),
            classifier_score=round(scores["classifier_score"], 3),
            fcd=round(scores["fcd"], 2),
            min_class=min(scores["class_fractions"]),
            max_class=max(scores["class_fractions"]),
        )
        print(json.dumps(row), flush=True)
        rows.append(row)

    clock_marks = [max(mark - clustering_seconds, 1) for mark in checkpoints]
    train_on_clock(gan, images, clock_marks, score, labels=labels, seed=seed)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[60, 120, 180, 240, 300])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--results", help="append the rows to this .jsonl file")
    args = parser.parse_args()
    train, heldout = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    metrics = ImageMetrics(
        pretrained.load("mnist-classifier"),
        scale_images(heldout.images),
        scale_images(train.images),
    )
    print(f"data: {train.note}; scored against {heldout.note}")
    for name in args.variants:
        rows = run(name, sorted(args.checkpoints), metrics, train.images)
        if args.results:
            with open(args.results, "a", encoding="utf-8") as file:
                file.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
