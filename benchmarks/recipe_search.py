"""Score versus training time for DCGAN recipe variants, measured on this machine (for the `fast`
recipe).

Each variant trains from scratch for a wall-clock budget; at each checkpoint the clock stops and
2,000 samples (fixed noise) are scored with the shipped `mnist-classifier` against the held-out
images: classifier score, FCD and class fractions — for the live generator (G) and, when the variant
keeps one, its exponential moving average (E). One JSON row per checkpoint is printed and appended
to --results. Variants run one after another (never in parallel) so they share the CPU fairly.

    .venv/bin/python benchmarks/recipe_search.py --budget 180 --checkpoints 60 120 180 \
        --variant '{"name": "baseline", "learning_rate": 2e-4, "ema": 0.999}' --variant '{...}'

Variant keys (defaults = the textbook DCGAN at half width): g_channels, d_filters, kernel, dropout,
batch, learning_rate (both players) or lr_g/lr_d, beta1, ema (0 = none), latent, smoothing,
d_batch_norm, aug (random shift of up to N pixels applied to reals and fakes before the
discriminator), cutout (side of a square erased from each image before the discriminator, as a
fraction of 28), loss ("ns" = non-saturating, "hinge"), r1 (weight γ of the R1 penalty
γ/2·‖∇D(real)‖² on the discriminator), clusters (K > 0: self-conditioning, lesson 07 — the
conditional networks trained on K k-means clusters of the images, sampled through
`clustered_generator`; the clustering's seconds count as training time).
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lessons import pretrained  # noqa: E402
from gan_lessons.conditional import (
    build_conditional_discriminator,
    build_conditional_generator,  # noqa: E402
    clustered_generator,
    kmeans_clusters,
)
from gan_lessons.data import load_mnist, scale_images  # noqa: E402
from gan_lessons.discriminator import build_discriminator  # noqa: E402
from gan_lessons.evaluation import ImageMetrics  # noqa: E402
from gan_lessons.generator import build_generator  # noqa: E402
from gan_lessons.losses import discriminator_loss, generator_loss  # noqa: E402
from gan_lessons.setup import seed_everything  # noqa: E402

DEFAULTS = dict(
    g_channels=(128, 64, 32),
    d_filters=(32, 64),
    kernel=5,
    dropout=0.3,
    batch=64,
    learning_rate=2e-4,
    beta1=0.5,
    ema=0.0,
    latent=100,
    smoothing=0.0,
    aug=0,
    cutout=0.0,
    d_batch_norm=False,
    loss="ns",
    r1=0.0,
    clusters=0,
    seed=0,
)


def shift_randomly(images, pad):
    """Each image moved by up to `pad` pixels (background filled with -1): DiffAugment-style
    translation."""
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], constant_values=-1.0)
    count, size = tf.shape(images)[0], images.shape[1]
    rows = tf.random.uniform((count,), 0, 2 * pad + 1, tf.int32)[:, None] + tf.range(size)[None]
    cols = tf.random.uniform((count,), 0, 2 * pad + 1, tf.int32)[:, None] + tf.range(size)[None]
    return tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)


def cut_out(images, fraction):
    "Erase one random square (background -1) from each image: DiffAugment's cutout."
    count, size = tf.shape(images)[0], images.shape[1]
    side = int(size * fraction)
    centres = tf.random.uniform((count, 2), 0, size, tf.int32)
    grid = tf.range(size)
    inside_rows = tf.abs(grid[None] - centres[:, :1]) <= side // 2
    inside_cols = tf.abs(grid[None] - centres[:, 1:]) <= side // 2
    hole = tf.logical_and(inside_rows[:, :, None], inside_cols[:, None, :])[..., None]
    return tf.where(hole, -1.0, images)


def run_variant(settings, checkpoints, metrics, images):
    v = {**DEFAULTS, **settings}
    seed_everything(v["seed"])
    conditional = bool(v["clusters"])
    clustering_started = (
        time.perf_counter()
    )  # clustering is part of the recipe's cost: it counts as training time
    labels = (
        kmeans_clusters(images, v["clusters"], seed=v["seed"])[0]
        if conditional
        else np.zeros(len(images), "int32")
    )
    clustering_seconds = time.perf_counter() - clustering_started
    g_options = dict(channels=v["g_channels"], kernel_size=v["kernel"])
    d_options = dict(
        filters=v["d_filters"],
        kernel_size=v["kernel"],
        dropout=v["dropout"],
        batch_norm=v["d_batch_norm"],
    )
    if conditional:
        generator = build_conditional_generator(v["latent"], num_classes=v["clusters"], **g_options)
        discriminator = build_conditional_discriminator(num_classes=v["clusters"], **d_options)
    else:
        generator, discriminator = (
            build_generator(latent_dim=v["latent"], **g_options),
            build_discriminator(**d_options),
        )

    def with_labels(
        model, x, labels, training=True
    ):  # conditional networks also take each image's cluster
        return model([x, labels] if conditional else x, training=training)

    average = keras.models.clone_model(generator)
    average.set_weights(generator.get_weights())
    average.latent_dim = v[
        "latent"
    ]  # clone_model does not copy attributes; clustered_generator reads it
    g_opt = keras.optimizers.Adam(v.get("lr_g", v["learning_rate"]), beta_1=v["beta1"])
    d_opt = keras.optimizers.Adam(v.get("lr_d", v["learning_rate"]), beta_1=v["beta1"])
    updates = tf.Variable(0.0)

    def augment(x):
        if v["aug"]:
            x = shift_randomly(x, v["aug"])
        if v["cutout"]:
            x = cut_out(x, v["cutout"])
        return x

    def losses(real_logits, fake_logits):
        if v["loss"] == "hinge":
            return (
                -tf.reduce_mean(fake_logits),
                tf.reduce_mean(tf.nn.relu(1.0 - real_logits))
                + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits)),
            )
        return generator_loss(fake_logits), discriminator_loss(
            real_logits, fake_logits, v["smoothing"]
        )

    @tf.function
    def step(real, labels):
        noise = tf.random.normal((tf.shape(real)[0], v["latent"]))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = with_labels(generator, noise, labels)
            seen_real = augment(real)
            with tf.GradientTape() as r1_tape:
                r1_tape.watch(seen_real)
                real_logits = with_labels(discriminator, seen_real, labels)
            fake_logits = with_labels(discriminator, augment(fake), labels)
            g_loss, d_loss = losses(real_logits, fake_logits)
            if v["r1"]:
                slopes = r1_tape.gradient(
                    real_logits, seen_real
                )  # a non-scalar target is summed; an op outside the tape would cut the graph
                d_loss += (
                    0.5 * v["r1"] * tf.reduce_mean(tf.reduce_sum(tf.square(slopes), axis=[1, 2, 3]))
                )
        g_opt.apply_gradients(
            zip(
                g_tape.gradient(g_loss, generator.trainable_variables),
                generator.trainable_variables,
            )
        )
        d_opt.apply_gradients(
            zip(
                d_tape.gradient(d_loss, discriminator.trainable_variables),
                discriminator.trainable_variables,
            )
        )
        if v["ema"]:  # the same warm-up rule as gan_lessons.training.GAN.update_average
            updates.assign_add(1.0)
            decay = tf.minimum(v["ema"], (1.0 + updates) / (10.0 + updates))
            for avg, current in zip(average.weights, generator.weights):
                avg.assign(decay * avg + (1.0 - decay) * current)
        return d_loss

    batches = iter(
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(images), seed=v["seed"])
        .batch(v["batch"])
        .repeat()
        .prefetch(4)
    )
    noise = tf.random.stateless_normal((2000, v["latent"]), seed=(7, 7))
    sampler = (
        (lambda model: clustered_generator(model, np.bincount(labels)))
        if conditional
        else (lambda model: model)
    )
    trained, steps, rows = clustering_seconds, 0, []
    for checkpoint in checkpoints:
        start = time.perf_counter()
        while trained + time.perf_counter() - start < checkpoint:
            d_loss = step(*next(batches))
            steps += 1
            if steps % 50 == 0:
                d_loss.numpy()  # keep the host in step with the device, so the clock is honest
        trained += time.perf_counter() - start
        row = dict(
            name=v.get("name", "?"),
            settings={k: v[k] for k in settings if k != "name"},
            seconds=round(trained),
            steps=steps,
        )
        for tag, model in (("G", generator), ("E", average)) if v["ema"] else (("G", generator),):
            scores = metrics.scores(sampler(model)(noise, training=False).numpy())
            row[tag] = dict(
                classifier_score=round(scores["classifier_score"], 2),
                fcd=round(scores["fcd"], 1),
                min_class=min(scores["class_fractions"]),
                max_class=max(scores["class_fractions"]),
            )
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", action="append", type=json.loads, required=True)
    parser.add_argument("--checkpoints", type=float, nargs="+", default=[60, 120, 180])
    parser.add_argument("--results", default=None, help="append the JSON rows to this file")
    args = parser.parse_args()
    train, heldout = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    print(f"data: {heldout.note}")
    images = scale_images(train.images)
    metrics = ImageMetrics(
        pretrained.load("mnist-classifier"), scale_images(heldout.images), images
    )
    for settings in args.variant:
        rows = run_variant(settings, sorted(args.checkpoints), metrics, images)
        if args.results:
            with open(args.results, "a", encoding="utf-8") as file:
                file.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
