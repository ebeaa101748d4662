"""Publish a finished run as a pretrained model: copy its model.keras, its record (model.json) and
the run's record (run.json, as NAME.run.json) into gan_lessons/assets/. The model's record gets
its measurement — the reports of `gan-lessons evaluate` and the sha-256 of the file they were
measured on (benchmarks/shipped_models.py measures them the same way later) — and the model card
is written from the run's record and that measurement: no number is typed by hand.

    python tools/publish_pretrained.py dcgan-mnist runs/dcgan-mnist ["a limitation, in words"]

`card(name, run_dir)` measures and returns the card without writing anything (the tests call it).
"""

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
from gan_lessons.files import write_json_atomically
from gan_lessons.model_cards import card_metrics, measurements
from gan_lessons.pretrained import PRETRAINED, assets_dir, model_info_path, read_model_info

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from shipped_models import measure, recorded_measurement  # noqa: E402 (the measurement command)


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


def from_training(run: dict) -> dict:
    "Numbers the run measured while training that the shipped file cannot give again."
    return {key: run[key] for key in ("heldout_elbo",) if key in run}


def measured_record(name: str, run_dir) -> dict:
    """The run's model record with its measurement (`measured`): the reports of `gan-lessons
    evaluate` on the run's model and the sha-256 of that file, which is the file published."""
    run_dir = Path(run_dir)
    info = read_model_info(run_dir / "model.keras")
    if info is None:
        raise SystemExit(f"{run_dir} holds no model.json: train it with `gan-lessons train`")
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    reports = measure(run_dir, measurements(name))
    info["measured"] = recorded_measurement(run_dir / "model.keras", reports, from_training(run))
    if "trained_on" in run:  # which images, as data: lesson 15's split check reads it
        info["trained_on"] = run["trained_on"]
    return info


def card(name: str, run_dir, info: dict | None = None, note: str | None = None) -> str:
    """The model card of the run in `run_dir`, published as `name`; its metrics are written from
    `info`, the record with its measurement (default: measured now, `measured_record`)."""
    run_dir = Path(run_dir)
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    info = info or measured_record(name, run_dir)
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
             f"- **File:** `{name}.keras`, {size_mb:.2f} MB.", "",
             card_metrics(name, info), "", "## Limitations", "",
             "Trained only on the data above; measured only on data it never saw."]  # fmt: skip
    return "\n".join(lines + (["", note] if note else [])) + "\n"


def publish(name: str, run_dir, note: str | None = None) -> Path:
    "Copy the run's model and record into the assets and write its card; the card's path."
    if name not in PRETRAINED:
        raise SystemExit(f"unknown name {name!r}: expected one of {', '.join(PRETRAINED)}")
    run_dir, target = Path(run_dir), assets_dir() / f"{name}.keras"
    info = measured_record(name, run_dir)  # measured before anything is copied
    text = card(name, run_dir, info, note)
    shutil.copyfile(run_dir / "model.keras", target)
    write_json_atomically(model_info_path(target), info)  # the sha-256 is the copied file's
    # the run's own record (settings, command, training time, curves) for the lessons to plot
    shutil.copyfile(run_dir / "run.json", assets_dir() / f"{name}.run.json")
    path = assets_dir() / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    print("published", publish(*sys.argv[1:]))
