"""Publish a finished run as a pretrained model: copy its model.keras into gan_lessons/assets/ and
write the model card next to it from the run's own record (run.json) and freshly measured metrics —
no number is typed by hand.

    python tools/publish_pretrained.py mnist-classifier runs/mnist-classifier
    python tools/publish_pretrained.py dcgan-mnist runs/dcgan-mnist
    python tools/publish_pretrained.py wgan-gp-mnist runs/wgan-gp-mnist ["a limitation, in words"]
    python tools/publish_pretrained.py char-lstm-frankenstein runs/char-lstm-frankenstein
    python tools/publish_pretrained.py vae-mnist runs/vae-mnist
    python tools/publish_pretrained.py audio-gan-tones runs/audio-gan-tones
"""

import contextlib
import io
import json
import math
import platform
import shutil
import sys
from pathlib import Path

import keras
import tensorflow as tf

import gan_lessons
import gan_lessons.conditional  # noqa: F401  registers ClusterCode (self-conditioned generators)
from gan_lessons.cli import main
from gan_lessons.pretrained import PRETRAINED, assets_dir
from gan_lessons.text import vocabulary_path
from gan_lessons.wasserstein import WGAN_VARIANTS

name, run_dir = sys.argv[1], Path(sys.argv[2])
if name not in PRETRAINED:
    sys.exit(
        f"unknown name {name!r}: expected one of {', '.join(PRETRAINED)} (add it to PRETRAINED "
        "first)"
    )
run = json.loads((run_dir / "run.json").read_text())
target = assets_dir() / PRETRAINED[name]["file"]
# re-saved from a weights-only load: the file carries no optimizer state, whatever the run wrote
keras.models.load_model(run_dir / "model.keras", compile=False).save(target)
if vocabulary_path(
    run_dir / "model.keras"
).is_file():  # a text model: its vocabulary travels with it
    shutil.copyfile(vocabulary_path(run_dir / "model.keras"), vocabulary_path(target))
size_mb = target.stat().st_size / 1e6
if (
    run["model"] == "char-lstm"
):  # windows of `window` characters, each character a target once per epoch
    steps_per_epoch = math.ceil(
        (run["training_characters"] - 1) // run["window"] / run["batch_size"]
    )
elif run["model"] == "audio-gan":  # drop_remainder: only whole batches
    steps_per_epoch = run["training_clips"] // run["batch_size"]
else:
    steps_per_epoch = math.ceil(
        run["training_images"] / run.get("batch_size", 128 if run["model"] == "classifier" else 64)
    )
critic_steps = WGAN_VARIANTS.get(run["model"], {}).get(
    "critic_steps"
)  # Wasserstein runs: updates per step
machine = f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} CPU cores, no GPU"

lines = [f"# {name}", "", PRETRAINED[name]["summary"] + ".", ""]
if run["model"] == "classifier":
    lines += [
        """**Contract:** images `(n, 28, 28, 1)` in [-1, 1] → 10 logits; the `features` layer (128
        units) is"""
        "what the FCD uses (`gan_lessons.evaluation.ImageMetrics`).",
        "",
    ]
elif run["model"] == "char-lstm":
    lines += [
        "**Contract:** character ids `(n, steps)` → next-character logits `(n, steps, "
        f"{len(json.loads(vocabulary_path(target).read_text())['characters']) + 1})`. "
        f"`load('{name}')` attaches `.vocabulary` (a `CharVocabulary`; id 0 = a character never "
        "seen in "
        f"training) and `.text_details` (corpus, held-out fraction, window), read from "
        f"`{vocabulary_path(target).name}`. Generate with `gan_lessons.text.CharGenerator` or "
        f"`gan-lessons sample {name} --prompt ... --length ... --temperature ...`.",
        "",
    ]
elif run["model"] == "audio-gan":
    latent = keras.models.load_model(target, compile=False).input_shape[-1]
    lines += [
        f"**Contract:** noise `(n, {latent})` (standard normal) → clips `(n, 4096, 1)` in [-1, "
        "1] at 8,000 Hz "
        f"(0.512 s); `load('{name}').latent_dim == {latent}`. These are the weight-averaged "
        "(EMA) generator's "
        f"weights. Listen with `gan_lessons.audio.listen`, or `gan-lessons sample {name} --n 8 "
        "--out clips.wav`.",
        "",
    ]
elif run["model"] == "cgan":
    latent = keras.models.load_model(target, compile=False).input_shape[0][-1]
    lines += [
        f"**Contract:** `[noise (n, {latent}) standard normal, labels (n,) integers 0–9]` → "
        "images `(n, 28, 28, 1)` "
        f"in [-1, 1] of the digits asked for; `load('{name}').latent_dim == {latent}`, "
        "`.num_classes == 10`. "
        "These are the weight-averaged (EMA) generator's weights.",
        "",
    ]
else:
    latent = keras.models.load_model(target, compile=False).input_shape[-1]
    lines += [
        f"**Contract:** noise `(n, {latent})` (standard normal) → images `(n, 28, 28, 1)` in "
        "[-1, 1]; "
        f"`load('{name}').latent_dim == {latent}`. "
        + (
            "This is the VAE's decoder followed by a sigmoid, rescaled to [-1, 1] (pixel means)."
            if run["model"] == "vae"
            else "These are the weight-averaged (EMA) generator's weights."
        ),
        "",
    ]
    if run.get("cluster_sizes"):  # self-conditioned (`gan-lessons train dcgan --clusters K`)
        sizes = run["cluster_sizes"]
        lines += [
            "**Self-conditioned** (lesson 08): the conditional DCGAN of lesson 08 trained on "
            f"{len(sizes)} k-means "
            "clusters of the training images' pixels in place of labels (no labels used; "
            "clusters of "
            f"{min(sizes)}–{max(sizes)} images). Inside the model a `ClusterCode` layer draws "
            "each sample's cluster "
            """from the first noise coordinate, in the clusters' training shares, and replaces that
            coordinate by"""
            "fresh standard normal noise — so the model takes noise only.",
            "",
        ]
trained_on = (
    f"{run['training_characters']:,} characters in windows of {run['window']}"
    if run["model"] == "char-lstm"
    else f"{run['training_clips']:,} clips"
    if run["model"] == "audio-gan"
    else f"{run['training_images']:,} images"
)
lines += [
    "## Training",
    "",
    f"- **Data and split:** {run['data']}; trained on {trained_on}.",
    f"- **Command:** `{run['command']}`"
    + (
        " (no data files needed: the clips are made in code)."
        if run["model"] == "audio-gan"
        else " (with `GAN_LESSONS_DATA` pointing at the data above)."
    ),
    f"- **Steps:** {run['completed_epochs']} epochs × {steps_per_epoch} steps = "
    f"{run['completed_epochs'] * steps_per_epoch:,} steps"
    + (
        f" (each: {critic_steps} critic updates on {run['batch_size'] // critic_steps} images "
        "each, then one "
        "generator update)."
        if critic_steps
        else "."
    ),
    f"- **Wall time:** {run['train_seconds']:.0f} s of training on this project's build machine "
    f"({machine}), "
    f"summed over all sessions of the run (evaluation and start-up excluded).",
    f"- **Software:** gan_lessons {gan_lessons.__version__}, TensorFlow {tf.__version__}, Keras "
    f"{keras.__version__}.",
    f"- **File:** `{target.name}`, {size_mb:.2f} MB.",
    "",
    "## Metrics",
    "",
]
if run["model"] == "classifier":
    lines += [
        f"- Held-out accuracy: **{run['heldout_accuracy']:.2%}** on the 2,000 held-out images.",
        "",
    ]
elif run["model"] == "char-lstm":
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["evaluate", name, "--json"]) == 0
    report = json.loads(printed.getvalue())
    lines += [
        f"Measured with `gan-lessons evaluate {name} --json` on {report['data']} "
        f"({report['heldout_characters']:,} characters; each scored once, after the first "
        f"{report['context'] // 2} with at least "
        f"{report['context'] // 2} characters of context):",
        "",
        f"- Held-out cross-entropy: **{report['heldout_nats_per_char']:.3f} nats per character** = "
        f"{report['heldout_bits_per_char']:.3f} bits per character (perplexity "
        f"{report['perplexity']:.2f}).",
        f"- Uniform over the vocabulary: {report['uniform_nats_per_char']:.3f} nats per character.",
        "",
    ]
elif run["model"] == "audio-gan":
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["evaluate", name, "--json"]) == 0
    report = json.loads(printed.getvalue())
    generated, real = report["generated_medians"], report["real_medians"]
    curve = run.get("distance_curve", [])
    lines += [
        f"Measured with `gan-lessons evaluate {name} --json` ({report['n_samples']:,} clips, "
        "seed 0, against "
        f"{report['data']}): the Fréchet distance of the three lesson-11 features (f0, spectral "
        "centroid, "
        "loudness; standardized on the real clips).",
        "",
        "| | this model | real vs real (floor) |",
        "| --- | --- | --- |",
        f"| feature distance | {report['feature_distance']:.3f} ({report['ratio']:.0f} × floor) | "
        f"{report['feature_distance_real_floor']:.3f} |",
        f"| median f0 | {generated['f0_hz']:.0f} Hz | {real['f0_hz']:.0f} Hz |",
        f"| median spectral centroid | {generated['centroid_hz']:.0f} Hz | "
        f"{real['centroid_hz']:.0f} Hz |",
        f"| median loudness | {generated['loudness_db']:.1f} dB | {real['loudness_db']:.1f} dB |",
        "",
    ]
    if curve:  # logged by the run itself after every epoch, on 500 clips
        shown = [row for row in curve if row["epoch"] % 10 == 0 or row["epoch"] in (1, len(curve))]
        lines += [
            """Feature distance during training (500 clips of the weight average after each epoch,
            from"""
            "`run.json`): "
            + "; ".join(f"epoch {row['epoch']}: {row['feature_distance']:.2f}" for row in shown)
            + ".",
            "",
        ]
else:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["evaluate", name, "--json"]) == 0
    report = json.loads(printed.getvalue())
    lines += [
        f"Measured with `gan-lessons evaluate {name} --json` ({report['n_samples']:,} samples, "
        "seed 0, against "
        f"the {report['heldout_images']:,} held-out images, with the `mnist-classifier` model):",
        "",
        "| metric | this model | real vs real (floor) |",
        "| --- | --- | --- |",
        f"| classifier score | {report['classifier_score']:.2f} | "
        f"{report['classifier_score_real_floor']:.2f} |",
        f"| FCD | {report['fcd']:.2f} ({report['fcd_ratio']:.2f} × floor) | "
        f"{report['fcd_real_floor']:.2f} |",
        "| class fractions (min–max) | "
        f"{min(report['class_fractions']):.1%}–{max(report['class_fractions']):.1%} | |",
        "",
        "Class fractions, digits 0–9: "
        + ", ".join(f"{share:.1%}" for share in report["class_fractions"]),
        "",
    ]
    if (
        "heldout_elbo" in run
    ):  # a VAE: its likelihood bound, from the run record (4 draws of z per image)
        lines += [
            "Held-out ELBO (from `run.json`, 4 draws of z per image, "
            f"{report['heldout_images']:,} images): "
            f"**{run['heldout_elbo']:.1f} nats per image** (reconstruction "
            f"{run['heldout_reconstruction']:.1f}, "
            f"KL {run['heldout_kl']:.1f}). Its samples are the decoder's pixel means: smooth, "
            "and blurrier than "
            "a GAN's (lesson 13 measures by how much).",
            "",
        ]
    if "label_accuracy" in report:
        lines += [
            "Label accuracy (samples asked for digit *k*, every digit equally often, that the "
            "classifier assigns "
            f"to *k*): **{report['label_accuracy']:.2%}**. FCD per class, digits 0–9: "
            + ", ".join(f"{value:.1f}" for value in report["per_class_fcd"])
            + ".",
            "",
        ]
if run["model"] == "char-lstm":
    lines += [
        "## Limitations",
        "",
        f"Learned from one novel of {run['training_characters'] + run['heldout_characters']:,} "
        "characters: it "
        """continues text in the style of *Frankenstein* (spelling, punctuation, the letters' voice)
        and has no"""
        "knowledge beyond it. Characters absent from the novel's first 90 % cannot be read or "
        "produced.",
    ]
elif run["model"] == "audio-gan":
    lines += [
        "## Limitations",
        "",
        """Trained on synthetic sounds only (harmonic tones 110–880 Hz, low-passed noise bursts,
        pitch sweeps;"""
        """lesson 12's `synthesize_clips`), at 8 kHz: it makes nothing else. Listen for its
        broadband hiss —"""
        "lesson 12 shows it in the spectrograms and measures it in the spectral centroid.",
    ]
else:
    lines += [
        "## Limitations",
        "",
        f"Trained on {run['data']}; measured against test images 8,000–9,999 of the official "
        "MNIST test "
        "split, which no shipped model ever saw.",
    ]
if len(sys.argv) > 3:  # what the run's record cannot say (e.g. why it stopped where it did)
    lines += ["", sys.argv[3]]
(assets_dir() / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
print(f"published {name}: {target} ({size_mb:.2f} MB) and {name}.md")
