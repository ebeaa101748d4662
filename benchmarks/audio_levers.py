"""Lesson 12's audio levers, one at a time from the baseline, each trained from scratch for the
same CPU seconds and measured at checkpoints (clock stopped) on 500 clips of the weight average:
feature distance to 500 fresh real clips, median spectral centroid, spectral flatness and
loudness — and the same of the raw (not averaged) generator. The `planes` variants change the
representation (page 85, GANSynth): the generator draws log-magnitude and IF planes, the critic
judges planes, and the clips measured are the planes turned back into waveforms.

    .venv/bin/python benchmarks/audio_levers.py --threads 1 --checkpoints 300 600 \
        --variants baseline nearest --results gan_lessons/assets/audio_levers.jsonl

The clock is this process's CPU time (`time.process_time`), which leaves out the time it waits
for a core: two processes of one thread each can share two cores (the caches and memory they share
still slow each a little; read small gaps as noise). One JSON row per checkpoint.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lessons.audio import (  # noqa: E402
    AUDIO_BATCH_SIZE,
    HELDOUT_SEEDS,
    audio_features,
    build_audio_gan,
    clip_kinds,
    feature_distance,
    spectral_flatness,
    synthesize_clips,
)
from gan_lessons.checkpoints import EpochSeededBatches  # noqa: E402
from gan_lessons.planes import build_planes_gan, clip_generator, planes_batches  # noqa: E402
from gan_lessons.wasserstein import TrainingClock  # noqa: E402

LEVERS = {
    "baseline": {},  # transposed convolutions; waveform + spectrogram critics; cross-entropy + R1
    "nearest": dict(upsample="nearest"),  # resize-convolution (Odena et al. 2016)
    "lowpass": dict(lowpass_hz=3000.0),  # a fixed low-pass at the output
    "multi-resolution": dict(spectrogram_frames=(64, 256, 1024)),  # UnivNet's MRD idea
    "no-phase-shuffle": dict(phase_shuffle=0),
    "wgan-gp": dict(game="wgan-gp", learning_rate=1e-4),  # one critic step, TTUR
    "waveform-only": dict(spectrogram_filters=0),  # the pitfall: no spectrogram critic
    "lowpass-raw": dict(lowpass_hz=3000.0, ema_decay=None),  # sampled without a weight average
    "lowpass-raw-r1-0.1": dict(lowpass_hz=3000.0, ema_decay=None, r1_weight=0.1),
    "lowpass-wgan-gp": dict(lowpass_hz=3000.0, game="wgan-gp", learning_rate=1e-4),
    "recipe": dict(lowpass_hz=3000.0, ema_decay=None),  # AUDIO_RECIPE: the waveform GAN's best
    # page 85: the generator draws log-magnitude and IF planes (GANSynth), the critic judges planes
    "planes": dict(representation="planes"),
    "planes-small": dict(
        representation="planes", channels=(64, 32, 16, 8), critic_filters=(8, 16, 32, 64)
    ),  # fmt: skip
    "planes-r1-0.1": dict(representation="planes", r1_weight=0.1),
    "planes-lr-2e-4": dict(representation="planes", learning_rate=2e-4),
    "planes-hop-128": dict(representation="planes", hop=128),
    "planes-mbstd": dict(representation="planes", minibatch_std=True),  # ProGAN's / GANSynth's
}


def build(changes: dict, clips):
    """The GAN of `changes`, its batches of `clips`, and a function from one of its generators
    to a clip generator (a planes generator is followed by the inverse transform)."""
    changes = dict(changes)
    if changes.pop("representation", "waveform") == "planes":
        gan = build_planes_gan(seed=0, **changes)
        return gan, planes_batches(clips, gan, AUDIO_BATCH_SIZE), clip_generator
    gan = build_audio_gan(seed=0, **changes)
    batches = EpochSeededBatches(clips, AUDIO_BATCH_SIZE, 0, drop_remainder=True, capped=True)
    return gan, batches, lambda generator: generator


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoints", type=float, nargs="+", default=[300, 600])
    parser.add_argument("--variants", nargs="+", choices=LEVERS, default=list(LEVERS))
    parser.add_argument("--combine", nargs="+", choices=LEVERS, default=None,
                        help="one more variant: these levers together")  # fmt: skip
    parser.add_argument("--clips", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all)")
    parser.add_argument("--results", default=None, help="append the JSON rows to this file")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    clips, _ = synthesize_clips(args.clips, seed=0)
    real_clips = synthesize_clips(500, seed=HELDOUT_SEEDS[0])[0]
    real = audio_features(real_clips)
    real_centroid = float(np.median(real[:, 1]))
    print(f"real: centroid {real_centroid:.0f} Hz, flatness "
          f"{np.median(spectral_flatness(real_clips)):.2g}", flush=True)  # fmt: skip
    variants = {name: LEVERS[name] for name in args.variants}
    if args.combine:
        variants["+".join(args.combine)] = {
            k: v for n in args.combine for k, v in LEVERS[n].items()
        }
    for variant, changes in variants.items():
        gan, batches, as_clips = build(changes, clips)
        noise = keras.random.normal((500, gan.latent_dim), seed=HELDOUT_SEEDS[0])
        rows = []

        def measure(
            seconds, steps, model, variant=variant, rows=rows, noise=noise, changes=changes,
            as_clips=as_clips,
        ):  # fmt: skip
            generated = as_clips(model.sampler)(noise, training=False).numpy()
            features = audio_features(generated)
            raw_clips = as_clips(model.generator)(noise, training=False).numpy()  # no average
            raw = audio_features(raw_clips)
            row = dict(
                variant=variant,
                settings={k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()},
                cpu_seconds=round(seconds),
                steps=steps,
                feature_distance=round(feature_distance(features, real), 4),
                centroid_hz=round(float(np.median(features[:, 1])), 1),
                real_centroid_hz=round(real_centroid, 1),
                flatness=float(f"{np.median(spectral_flatness(generated)):.3g}"),
                f0_hz=round(float(np.median(features[:, 0])), 1),
                loudness_db=round(float(np.median(features[:, 2])), 2),
                real_loudness_db=round(float(np.median(real[:, 2])), 2),
                raw_feature_distance=round(feature_distance(raw, real), 4),
                raw_loudness_db=round(float(np.median(raw[:, 2])), 2),
                raw_centroid_hz=round(float(np.median(raw[:, 1])), 1),
                kind_shares=np.round(
                    np.bincount(clip_kinds(generated), minlength=3) / 500, 3
                ).tolist(),
                raw_flatness=float(f"{np.median(spectral_flatness(raw_clips)):.3g}"),
                threads=args.threads or None,
            )
            print(json.dumps(row), flush=True)
            rows.append(row)

        clock = TrainingClock(args.checkpoints, measure, clock=time.process_time)
        gan.fit(batches.dataset, epochs=100_000, verbose=0, shuffle=False,
                callbacks=[batches.callback, clock])  # fmt: skip
        if args.results:
            with open(args.results, "a", encoding="utf-8") as file:
                file.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
