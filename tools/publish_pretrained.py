"""Publish a finished run as a pretrained model: copy its model.keras, its record (model.json) and
the run's record (run.json, as NAME.run.json) into gan_lessons/assets/ and write the model card
from the run's own record and freshly measured metrics — no number is typed by hand.

    python tools/publish_pretrained.py dcgan-mnist runs/dcgan-mnist ["a limitation, in words"]

`card(name, run_dir)` returns the card without writing anything (the tests call it).
"""

import contextlib
import io
import json
import math
import os
import platform
import shutil
import sys
from pathlib import Path

import keras
import tensorflow as tf

import gan_lessons
from gan_lessons.cli import main
from gan_lessons.pretrained import PRETRAINED, assets_dir, model_info_path, read_model_info


def measured(model: str) -> dict:
    "`gan-lessons evaluate MODEL --json`: the report every card quotes."
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        if main(["evaluate", str(model), "--json"]) != 0:
            raise RuntimeError(f"gan-lessons evaluate {model} failed")
    return json.loads(printed.getvalue())


def steps_per_epoch(run: dict) -> int:
    "Optimizer steps of one epoch, from the run's record."
    if "window" in run:  # text: windows of `window` characters, each character a target once
        return math.ceil((run["training_characters"] - 1) // run["window"] / run["batch_size"])
    if "training_clips" in run:  # audio: whole batches only
        return run["training_clips"] // run["batch_size"]
    return math.ceil(run["images_per_epoch"] / run.get("batch_size", 128))


def contract(name: str, info: dict) -> str:
    "What goes in and what comes out, from the model's record."
    kind, latent = info["kind"], info.get("latent_dim")
    load = f"load('{name}')"
    if kind == "classifier":
        return (
            "images `(n, 28, 28, 1)` in [-1, 1] → 10 logits; the `features` layer (128 units) is "
            "what the FCD uses (`gan_lessons.evaluation.ImageMetrics`)."
        )
    if kind == "text-generator":
        return (
            "character ids `(n, steps)` → next-character logits `(n, steps, "
            f"{len(info['vocabulary']) + 1})`. `{load}` attaches `.vocabulary` (a "
            "`CharVocabulary`; id 0 = a character never seen in training) and `.text_details` "
            f"(corpus, held-out fraction, window), read from `{name}.json`. Generate with "
            f"`gan-lessons sample {name} --prompt ... --length ... --temperature ...`."
        )
    if kind == "audio-generator":
        return (
            f"noise `(n, {latent})` (standard normal) → clips `(n, 4096, 1)` in [-1, 1] at 8,000 "
            f"Hz; `{load}.latent_dim == {latent}`. Listen with `gan_lessons.audio.listen`, or "
            f"`gan-lessons sample {name} --n 8 --out clips.wav`."
        )
    if kind == "flow-image-generator":
        return (
            f"noise `(n, {latent})` (standard normal, one number per pixel) → images `(n, 28, 28, "
            "1)` in [-1, 1]. Inside, lesson 14's `FlowSampler` draws a class from the first noise "
            "coordinate and integrates the velocity of a class-conditional U-Net (its "
            "`network`) from the noise at t = 0 to an image at t = 1; "
            f"`{load}.get_layer('flow_sampler')` holds `steps`, `method` and `guidance`, which "
            f"`gan-lessons sample {name} --steps K --method euler|heun --guidance W` changes."
        )
    if kind == "conditional-image-generator":
        return (
            f"`[noise (n, {latent}) standard normal, labels (n,) integers 0–9]` → images `(n, 28, "
            f"28, 1)` in [-1, 1] of the digits asked for; `{load}.latent_dim == {latent}`, "
            f"`.num_classes == {info['num_classes']}`."
        )
    return (
        f"noise `(n, {latent})` (standard normal) → images `(n, 28, 28, 1)` in [-1, 1]; "
        f"`{load}.latent_dim == {latent}`."
    )


def metric_lines(model, info: dict, run: dict) -> list[str]:
    "The card's metrics: measured now, with `gan-lessons evaluate`, on the model in `model`."
    report, kind = measured(model), info["kind"]
    if kind == "classifier":
        return [f"- Held-out accuracy: **{report['heldout_accuracy']:.2%}** ({report['data']})."]
    if kind == "text-generator":
        nats = report["heldout_nats_per_char"]
        return [
            f"Measured with `gan-lessons evaluate --json` on {report['data']} "
            f"({report['heldout_characters']:,} characters, each scored with at least "
            f"{report['context'] // 2} characters of context):",
            "",
            f"- Held-out cross-entropy: **{nats:.3f} nats per character** = "
            f"{report['heldout_bits_per_char']:.3f} bits (perplexity {report['perplexity']:.2f}).",
            f"- Uniform over the vocabulary: {report['uniform_nats_per_char']:.3f} nats.",
        ]
    if kind == "audio-generator":
        generated, real = report["generated_medians"], report["real_medians"]
        return [
            f"Measured with `gan-lessons evaluate --json` ({report['n_samples']:,} clips, seed 0, "
            f"against {report['data']}): the Fréchet distance of lesson 12's three features.",
            "",
            "| | this model | real vs real (floor) |",
            "| --- | --- | --- |",
            f"| feature distance | {report['feature_distance']:.3f} | "
            f"{report['feature_distance_real_floor']:.3f} |",
            *(
                f"| median {label} | {generated[key]:.1f} | {real[key]:.1f} |"
                for key, label in (
                    ("f0_hz", "f0 (Hz)"),
                    ("centroid_hz", "centroid (Hz)"),
                    ("loudness_db", "loudness (dB)"),
                )
            ),  # fmt: skip
            f"| median spectral flatness | {generated['flatness']:.2g} | {real['flatness']:.2g} |",
        ]
    lines = [
        f"Measured with `gan-lessons evaluate --json` ({report['n_samples']:,} samples, seed 0, "
        f"against the {report['heldout_images']:,} held-out images, with `mnist-classifier`):",
        "",
        "| metric | this model | real vs real (floor) |",
        "| --- | --- | --- |",
        f"| classifier score | {report['classifier_score']:.2f} | "
        f"{report['classifier_score_real_floor']:.2f} |",
        f"| FCD | {report['fcd']:.2f} ({report['fcd_ratio']:.2f} × floor) | "
        f"{report['fcd_real_floor']:.2f} |",
        "",
        "Class fractions, digits 0–9: "
        + ", ".join(f"{share:.1%}" for share in report["class_fractions"]),
    ]
    if "evaluations" in report:
        lines.append(
            f"Sampler: {report['method']}, {report['steps']} steps, guidance "
            f"{report['guidance']:g} — {report['evaluations']} network evaluations per sample."
        )
    if "label_accuracy" in report:
        lines.append(
            "Label accuracy (samples the classifier assigns to the digit asked for): "
            f"**{report['label_accuracy']:.2%}**."
        )
    if "heldout_elbo" in run:
        lines.append(
            f"Held-out ELBO (from `run.json`, 4 draws of z per image): **{run['heldout_elbo']:.1f} "
            "nats per image**."
        )
    return lines


def card(name: str, run_dir, note: str | None = None) -> str:
    "The model card of the run in `run_dir`, published as `name`."
    run_dir = Path(run_dir)
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    info = read_model_info(run_dir / "model.keras")
    if info is None:
        raise SystemExit(f"{run_dir} holds no model.json: train it with `gan-lessons train`")
    size_mb = (run_dir / "model.keras").stat().st_size / 1e6
    epochs, steps = run["completed_epochs"], steps_per_epoch(run)
    cores = len(os.sched_getaffinity(0))
    trained_on = (
        f"{run['training_characters']:,} characters" if "window" in run
        else f"{run['training_clips']:,} clips" if "training_clips" in run
        else f"{run['training_images']:,} images"
    )  # fmt: skip
    lines = [f"# {name}", "", PRETRAINED[name]["summary"] + ".", "",
             f"**Contract:** {contract(name, info)}", "", "## Training", "",
             f"- **Data and split:** {run['data']}; trained on {trained_on}.",
             f"- **Command:** `{run['command']}`.",
             f"- **Steps:** {epochs} epochs × {steps} steps = {epochs * steps:,} steps.",
             f"- **Wall time:** {run['train_seconds']:.0f} s of training on {platform.machine()}, "
             f"{cores} CPU cores, no GPU (summed over the run's sessions).",
             f"- **Software:** gan_lessons {gan_lessons.__version__}, TensorFlow "
             f"{tf.__version__}, Keras {keras.__version__}.",
             f"- **File:** `{PRETRAINED[name]['file']}`, {size_mb:.2f} MB.", "", "## Metrics", "",
             *metric_lines(run_dir, info, run), "", "## Limitations", "",
             "Trained only on the data above; measured only on data it never saw."]  # fmt: skip
    return "\n".join(lines + (["", note] if note else [])) + "\n"


def publish(name: str, run_dir, note: str | None = None) -> Path:
    "Copy the run's model and record into the assets and write its card; the card's path."
    if name not in PRETRAINED:
        raise SystemExit(f"unknown name {name!r}: expected one of {', '.join(PRETRAINED)}")
    run_dir, target = Path(run_dir), assets_dir() / PRETRAINED[name]["file"]
    text = card(name, run_dir, note)  # measured before anything is copied
    shutil.copyfile(run_dir / "model.keras", target)
    shutil.copyfile(model_info_path(run_dir / "model.keras"), model_info_path(target))
    # the run's own record (settings, command, training time, curves) for the lessons to plot
    shutil.copyfile(run_dir / "run.json", assets_dir() / f"{name}.run.json")
    path = assets_dir() / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    print("published", publish(*sys.argv[1:]))
