"""Throughput of one GAN training step, measured in the same run (this machine is shared and noisy):

  (a) the course's step: `gan_lessons.training.make_train_step` (a tf.function);
  (b) the same step run eagerly (no tf.function);
  (c) the Keras 2 recipe: `discriminator.train_on_batch` + `combined.train_on_batch`;
  (d) the course's step compiled with XLA (`make_train_step(..., jit_compile=True)`);
  (e) the `GAN` model's `fit()` (what `gan-lessons train` runs), fed by a `tf.data` pipeline;
  (f) the same `fit()` with `steps_per_execution=16` (16 steps per call into the graph);
  (g) the course's step with the losses kept as tensors and read back once at the end (as lesson
      05's loop does), instead of a host sync after every step as in (a);
  (h) `fit_gan` — the `GAN`'s `fit()` with the course's callbacks (backup, saved weights, NaN
      check), as lessons and `gan-lessons train` run it.

All three use the TensorFlow DCGAN tutorial architecture (the course's default generator and
discriminator) and the same batch size. Prints images/s, ratios, and the fraction of this CPU's fp32
peak (≈ 0.48 GFLOP per image per step, from `multiply_adds`; the peak is read off /proc/cpuinfo,
AVX-512 machines doing twice the FLOP per cycle of AVX2 ones).

    .venv/bin/python benchmarks/train_step_throughput.py [--batch 128] [--seconds 20]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lessons.discriminator import build_discriminator, multiply_adds  # noqa: E402
from gan_lessons.generator import build_generator  # noqa: E402
from gan_lessons.setup import runtime_report, seed_everything  # noqa: E402
from gan_lessons.training import GAN, fit_gan, make_train_step, train_step  # noqa: E402


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def measure(run_one_step, batch_size, seconds, warmup=2):
    for _ in range(warmup):  # tracing / first-call costs are not throughput
        run_one_step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run_one_step()
        steps += 1
    return steps * batch_size / (time.perf_counter() - start), steps


def cpu_peak_gflops() -> tuple[float, str]:
    """Nominal fp32 peak from /proc/cpuinfo: cores × clock × FLOP per cycle (2 FMA units × vector
    width × 2)."""
    text = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "")
    mhz = next(
        (float(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu MHz")),
        2450.0,
    )
    per_cycle = 64 if " avx512f " in f"{flags} " else 32
    cores = len(os.sched_getaffinity(0))
    return (
        cores * mhz / 1e3 * per_cycle,
        f"{cores} cores × {mhz / 1e3:.2f} GHz × {per_cycle} FLOP/cycle",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per variant")
    parser.add_argument(
        "--peak-gflops",
        type=float,
        default=None,
        help="fp32 peak of this CPU (default: cores × clock × 32 FLOP/cycle with AVX2+FMA, 64 "
        "with AVX-512)",
    )
    args = parser.parse_args()
    seed_everything(0, deterministic=False)
    real = tf.random.uniform((args.batch, 28, 28, 1), -1, 1)
    ones, zeros = tf.ones((args.batch, 1)), tf.zeros((args.batch, 1))
    results = {}

    generator, discriminator = build_generator(), build_discriminator()
    flops = 2 * (3 * multiply_adds(generator) + 8 * multiply_adds(discriminator))
    step = make_train_step(generator, discriminator, adam(), adam())
    results["(a) course step, tf.function"] = measure(
        lambda: step(real)["d_loss"].numpy(), args.batch, args.seconds
    )

    generator, discriminator = build_generator(), build_discriminator()
    g_optimizer, d_optimizer = adam(), adam()

    def eager_step():  # the step draws its own noise, one vector per real image
        latent_dim = generator.latent_dim
        train_step(generator, discriminator, g_optimizer, d_optimizer, real, latent_dim)[
            "d_loss"
        ].numpy()

    results["(b) same step, eager"] = measure(eager_step, args.batch, args.seconds)

    # The Keras 2 recipe. (On Keras 3 its discriminator does not even learn — lesson 05 — but it
    # runs.)
    generator, discriminator = build_generator(), build_discriminator()
    discriminator.compile(optimizer=adam(), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    discriminator.trainable = False
    combined = keras.Sequential([generator, discriminator])
    combined.compile(optimizer=adam(), loss=keras.losses.BinaryCrossentropy(from_logits=True))

    def train_on_batch_step():
        noise = tf.random.normal((args.batch, generator.latent_dim))
        fake = generator.predict_on_batch(noise)
        discriminator.train_on_batch(tf.concat([real, fake], 0), tf.concat([ones, zeros], 0))
        combined.train_on_batch(noise, ones)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results["(c) train_on_batch loop"] = measure(train_on_batch_step, args.batch, args.seconds)

    generator, discriminator = build_generator(), build_discriminator()
    xla_step = make_train_step(generator, discriminator, adam(), adam(), jit_compile=True)
    results["(d) course step, XLA"] = measure(
        lambda: xla_step(real)["d_loss"].numpy(), args.batch, args.seconds
    )

    gan = GAN(build_generator(), build_discriminator(), seed=0)
    gan.compile(d_optimizer=adam(), g_optimizer=adam())
    batches = tf.data.Dataset.from_tensors(real).repeat().prefetch(tf.data.AUTOTUNE)
    gan.fit(batches, steps_per_epoch=2, epochs=1, verbose=0)  # tracing is not throughput
    fit_steps = max(4, int(results["(a) course step, tf.function"][0] * args.seconds / args.batch))
    start = time.perf_counter()
    gan.fit(batches, steps_per_epoch=fit_steps, epochs=1, verbose=0)
    results["(e) GAN.fit(), tf.data input"] = (
        fit_steps * args.batch / (time.perf_counter() - start),
        fit_steps,
    )

    gan = GAN(build_generator(), build_discriminator(), seed=0)
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), steps_per_execution=16)
    gan.fit(batches, steps_per_epoch=32, epochs=1, verbose=0)
    start = time.perf_counter()
    gan.fit(batches, steps_per_epoch=16 * max(1, fit_steps // 16), epochs=1, verbose=0)
    results["(f) fit(), steps_per_execution=16"] = (
        16 * max(1, fit_steps // 16) * args.batch / (time.perf_counter() - start),
        16 * max(1, fit_steps // 16),
    )

    generator, discriminator = build_generator(), build_discriminator()
    late_step = make_train_step(generator, discriminator, adam(), adam())
    late_step(real)  # tracing is not throughput
    late_steps = max(4, fit_steps)
    start = time.perf_counter()
    kept = [late_step(real)["d_loss"] for _ in range(late_steps)]
    float(tf.reduce_mean(tf.stack(kept)))  # the one read-back
    results["(g) course step, read back at end"] = (
        late_steps * args.batch / (time.perf_counter() - start),
        late_steps,
    )

    import tempfile

    images = np.random.default_rng(0).integers(
        0, 256, (fit_steps * args.batch, 28, 28), dtype=np.uint8
    )
    gan = GAN(build_generator(), build_discriminator(), seed=0)
    gan.compile(d_optimizer=adam(), g_optimizer=adam())
    with tempfile.TemporaryDirectory() as folder:
        fit_gan(
            gan,
            images[: 2 * args.batch],
            epochs=1,
            out_dir=f"{folder}/warmup",
            batch_size=args.batch,
            verbose=0,
        )
        start = time.perf_counter()
        fit_gan(gan, images, epochs=1, out_dir=f"{folder}/run", batch_size=args.batch, verbose=0)
        results["(h) fit_gan, course callbacks"] = (
            fit_steps * args.batch / (time.perf_counter() - start),
            fit_steps,
        )

    report = runtime_report()
    print(
        f"TensorFlow {report['tensorflow']}, Keras {report['keras']}, {report['cpu_count']} CPUs, "
        f"GPUs: {report['gpus'] or 'none'}"
    )
    peak, how = (args.peak_gflops, "given") if args.peak_gflops else cpu_peak_gflops()
    print(
        f"DCGAN (TensorFlow tutorial architecture), batch {args.batch}, {flops / 1e9:.3f} GFLOP "
        f"per image per step; peak {peak:.0f} GFLOP/s ({how})"
    )
    print(f"{'variant':<32} {'images/s':>9} {'steps':>6} {'vs (a)':>7} {'% of peak':>10}")
    course = results["(a) course step, tf.function"][0]
    for name, (rate, steps) in results.items():
        print(
            f"{name:<32} {rate:>9.1f} {steps:>6} {rate / course:>7.2f} "
            f"{100 * rate * flops / 1e9 / peak:>9.1f}%"
        )
    fit_rate = results["(e) GAN.fit(), tf.data input"][0]
    print(
        f"ratios: (a)/(b) = {course / results['(b) same step, eager'][0]:.2f}, (a)/(c) = "
        f"{course / results['(c) train_on_batch loop'][0]:.2f}, (d)/(a) = "
        f"{results['(d) course step, XLA'][0] / course:.2f}, (e)/(a) = "
        f"{results['(e) GAN.fit(), tf.data input'][0] / course:.2f}, (f)/(e) = "
        f"{results['(f) fit(), steps_per_execution=16'][0] / fit_rate:.2f}, (g)/(a) = "
        f"{results['(g) course step, read back at end'][0] / course:.2f}, (h)/(e) = "
        f"{results['(h) fit_gan, course callbacks'][0] / fit_rate:.2f}"
    )


if __name__ == "__main__":
    main()
