"""Lesson 15's saved comparisons: generated images as training data, against real ones.

    .venv/bin/python benchmarks/generated_data.py --results gan_lessons/assets/generated_data.jsonl

One row per classifier of `gan_lessons.augmentation.comparison_plan` (lesson 06's classifier
without its own shifts, `CLASSIFIER_STEPS` batches of 128, one seed), measured by `measure_row`
on MNIST's held-out digits — which no shipped model and no instrument trained on, checked before
anything runs:

- `table: cas` — trained on `--n` labelled samples of a generator alone (`model`), or on `--n`
  real training images (`model: real`): the Classification Accuracy Score and its baseline;
- `table: few` — trained on `per_class` real labelled images of each digit, with or without
  classic augmentation and with or without half of every batch from a generator, or from real
  unlabelled images named by the nearest labelled one (`condition`);
- with `--only NAME`, only the rows of that generator (or `real`);
- with `--closer`, also `closer_plan`'s rows, one seed each: `table: by_class` (CAS of every
  model at `--n`), `table: cas_n` (real and cgan-mnist at `CAS_SIZES` images), `table: share`
  (cgan-mnist's share of each batch at 10 labels per digit).

Every row holds the held-out accuracy in all and class by class (`class_accuracy`, digits 0–9;
rows saved before it was kept have none).

Rows already in `--results` are kept and not run again, so an interrupted run continues; the file
is rewritten whole after every row. The lesson's gpu profile measures the same rows itself.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gan_lessons import pretrained  # noqa: E402
from gan_lessons.augmentation import (  # noqa: E402
    CLASSIFIER_STEPS,
    COMPARED_GENERATORS,
    FEW_LABEL_CONDITIONS,
    check_disjoint,
    closer_plan,
    comparison_plan,
    image_positions,
    measure_row,
    model_training_images,
)
from gan_lessons.data import load_mnist  # noqa: E402
from gan_lessons.files import write_text_atomically  # noqa: E402


def source_of(plan: dict) -> str | None:
    "The generator a few-label row draws from, if any."
    return FEW_LABEL_CONDITIONS.get(plan.get("condition"), (None, None))[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--n", type=int, default=2000, help="CAS: images per classifier")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--per-class", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--closer", action="store_true", help="also the rows of closer_plan")
    parser.add_argument("--only", help="only the rows of this generator (or 'real')")
    args = parser.parse_args()
    train, test = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    trained = {
        name: model_training_images(name) for name in (*COMPARED_GENERATORS, "mnist-classifier")
    }
    trained["real"] = image_positions(train.positions)
    check_disjoint(image_positions(test.positions), trained)
    rows = []
    if args.results.is_file():
        rows = [json.loads(line) for line in args.results.read_text().splitlines() if line]
    plans = comparison_plan(args.n, args.seeds, args.per_class)
    plans += closer_plan(args.n) if args.closer else []
    if args.only:
        plans = [plan for plan in plans if args.only in (plan.get("model"), source_of(plan))]
    for plan in sorted(plans, key=lambda row: row.get("model") == "diffusion-mnist"):
        if any(all(row.get(key) == value for key, value in plan.items()) for row in rows):
            continue
        started = time.perf_counter()
        scores = measure_row(plan, pretrained.load, train, test)
        seconds = round(time.perf_counter() - started, 1)
        by_class = [round(value, 4) for value in scores["class_accuracy"]]
        rows.append({**plan, "accuracy": round(scores["accuracy"], 4), "class_accuracy": by_class,
                     "steps": CLASSIFIER_STEPS, "seconds": seconds, "test": test.note,
                     "test_images": test.positions})  # fmt: skip
        write_text_atomically(args.results, "".join(json.dumps(row) + "\n" for row in rows))
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
