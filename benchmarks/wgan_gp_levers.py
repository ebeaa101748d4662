"""Lesson 09's WGAN-GP levers, each trained from scratch for the same CPU seconds and scored at
checkpoints (clock stopped) on 2,000 samples of the weight average with the shipped
`mnist-classifier`: classifier score, FCD, class fractions, generator steps, the critic's estimate.

    .venv/bin/python benchmarks/wgan_gp_levers.py --threads 1 --checkpoints 120 240 480 \
        --variants previous ttur ttur-sc50 --results gan_lessons/assets/wgan_gp_levers.jsonl

The clock is this process's CPU time (`time.process_time`), which leaves out the time it waits
for a core: two processes of one thread each can share two cores (the caches and memory they share
still slow each a little; read small gaps as noise). Clustering (self-conditioned
variants) counts as training time. One JSON row per checkpoint.
"""

import argparse
import json
import os
import time
from functools import partial

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lessons import pretrained  # noqa: E402
from gan_lessons.conditional import clustered_generator, kmeans_clusters  # noqa: E402
from gan_lessons.data import load_mnist, scale_images  # noqa: E402
from gan_lessons.evaluation import ImageMetrics  # noqa: E402
from gan_lessons.wasserstein import build_wgan, train_on_clock  # noqa: E402

PAPER_ADAM = ("adam", 1e-4, 0.0, 0.9)  # Gulrajani et al. 2017, Algorithm 1
PREVIOUS = dict(  # the course's WGAN-GP before this comparison: 5 critic steps, Adam β₁ = 0.5
    critic_steps=5, penalty_every=1,
    critic_optimizer=("adam", 1e-4, 0.5, 0.9), generator_optimizer=("adam", 1e-4, 0.5, 0.9),
)  # fmt: skip
TTUR = dict(  # one critic update per generator update, the critic 4× faster (Heusel et al. 2017)
    critic_steps=1, penalty_every=1, critic_optimizer=("adam", 4e-4, 0.0, 0.9),
    generator_optimizer=PAPER_ADAM,
)  # fmt: skip
LEVERS = {
    "previous": (PREVIOUS, 0),
    "paper-adam": (
        {**PREVIOUS, "critic_optimizer": PAPER_ADAM, "generator_optimizer": PAPER_ADAM},
        0,
    ),
    "ttur": (TTUR, 0),
    "ttur-lazy4": ({**TTUR, "penalty_every": 4}, 0),  # lazy regularization (Karras et al. 2020)
    "ttur-sc50": (TTUR, 50),  # self-conditioned on 50 k-means clusters (lesson 08)
    "ttur-lazy4-sc50": ({**TTUR, "penalty_every": 4}, 50),
}


def critic_input(images, centroids=None):
    "The critic's input: the images, and with clusters each image's nearest k-means centroid."
    images = keras.ops.convert_to_tensor(images)
    if centroids is None:
        return images
    flat = np.asarray(images).reshape(len(images), -1)
    distances = (flat**2).sum(1)[:, None] - 2 * flat @ centroids.T + (centroids**2).sum(1)[None]
    return [images, keras.ops.convert_to_tensor(distances.argmin(axis=1).astype("int32"))]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoints", type=float, nargs="+", default=[120, 240, 480])
    parser.add_argument("--variants", nargs="+", choices=LEVERS, default=list(LEVERS))
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all)")
    parser.add_argument("--results", default=None, help="append the JSON rows to this file")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    train, heldout = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    print(f"data: {heldout.note}", flush=True)
    metrics = ImageMetrics(
        pretrained.load("mnist-classifier"),
        scale_images(heldout.images),
        scale_images(train.images),
    )
    noise = keras.random.normal((2000, 100), seed=4)
    real_probe = scale_images(heldout.images[:500])
    for variant in args.variants:
        changes, clusters = LEVERS[variant]
        started = time.process_time()
        assignments = sizes = centroids = None
        if clusters:
            assignments, centroids = kmeans_clusters(scale_images(train.images), clusters, seed=0)
            sizes = [int((assignments == k).sum()) for k in range(clusters)]
        clustering = time.process_time() - started
        gan = build_wgan("wgan-gp", "fast", seed=0, num_classes=clusters or None, **changes)
        rows = []

        def score(
            seconds,
            steps,
            model,
            variant=variant,
            rows=rows,
            sizes=sizes,
            centroids=centroids,
            **bound,
        ):
            sampler = clustered_generator(model.sampler, sizes) if sizes else model.sampler
            fakes = sampler(noise, training=False).numpy()
            scores = metrics.scores(fakes)
            estimate = float(
                tf.reduce_mean(model.critic(critic_input(real_probe, centroids), training=False))
                - tf.reduce_mean(model.critic(critic_input(fakes[:500], centroids), training=False))
            )
            row = dict(
                variant=variant,
                settings={k: list(v) if isinstance(v, tuple) else v for k, v in bound["changes"]},
                clusters=bound["clusters"],
                cpu_seconds=round(seconds + bound["clustering"]),
                generator_steps=int(model.g_optimizer.iterations.numpy()),
                classifier_score=round(scores["classifier_score"], 3),
                fcd=round(scores["fcd"], 2),
                min_class=round(min(scores["class_fractions"]), 4),
                max_class=round(max(scores["class_fractions"]), 4),
                critic_estimate=round(estimate, 4),
                threads=args.threads or None,
            )
            print(json.dumps(row), flush=True)
            rows.append(row)

        checkpoints = [max(c - clustering, 1.0) for c in args.checkpoints]
        score = partial(score, changes=changes.items(), clusters=clusters, clustering=clustering)
        train_on_clock(gan, train.images, checkpoints, score, labels=assignments,
                       clock=time.process_time)  # fmt: skip
        if args.results:
            with open(args.results, "a", encoding="utf-8") as file:
                file.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
