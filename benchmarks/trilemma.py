"""Lesson 14's trilemma: quality, coverage and sampling speed of the shipped generators, measured
the same way — the same noise seed, the same held-out digits, the shipped `mnist-classifier`.

    .venv/bin/python benchmarks/trilemma.py --results gan_lessons/assets/diffusion_trilemma.jsonl \
        --raw runs/diffusion-mnist/diffusion.weights.h5

Rows (one JSON object per line), each with classifier score, FCD and its ratio to the real floor at
the same sample size, coverage (Naeem et al. 2020, k = 5, in the classifier's feature space), the
median pixel distance of a sample to its nearest training image (and of a held-out real digit,
`nearest_real`), the sampling seconds per 1,000 images on this machine (batches of 500), and the
model's training seconds as its record or card gives them:

- `role: model` — each model with its own sampler, at each `--n` samples;
- `role: sweep` — the diffusion model with Euler and Heun at each of `--steps`, `--sweep-n` samples;
- `role: guidance` — the diffusion model at each `--guidance` (Heun, 8 steps), `--sweep-n` samples;
- `role: raw` — with `--raw`, the last raw weights of the diffusion run instead of their average.

`--roles` measures only some of them; `--append` adds the rows to `--results` instead of replacing
it; `--bootstrap B` adds the spread of the classifier score and the FCD ratio over B resamples of
the generated images (`classifier_score_sd`, `fcd_ratio_sd`: what sampling a different set of the
same size would move them by). To put the models beside the sweep at one sample size:

    .venv/bin/python benchmarks/trilemma.py --roles model --n 1000 --bootstrap 20 --append \
        --results gan_lessons/assets/diffusion_trilemma.jsonl
"""

import argparse
import json
import os
import re
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from gan_lessons import pretrained  # noqa: E402
from gan_lessons.data import load_mnist, scale_images  # noqa: E402
from gan_lessons.diffusion import build_flow_matching, coverage, evaluations, flow_sampler  # noqa: E402
from gan_lessons.evaluation import (  # noqa: E402
    ImageMetrics,
    classifier_score,
    frechet_distance,
    gaussian_statistics,
    generate,
    nearest_neighbour_distances,
)
from gan_lessons.files import write_text_atomically  # noqa: E402


def train_seconds(name: str) -> float:
    "Training seconds from the model's card (pretrained), or from a run directory's record."
    if (Path(name) / "run.json").is_file():
        return json.loads((Path(name) / "run.json").read_text())["train_seconds"]
    found = re.search(r"\*\*Wall time:\*\* ([\d,.]+) s", pretrained.model_card(name))
    if found is None:
        raise ValueError(f"the card of {name} gives no training time")
    return float(found.group(1).replace(",", ""))


def sampling_seconds(model, count: int = 200) -> float:
    "Seconds per 1,000 samples, on the threads this process was given (the first call warms up)."
    generate(model, 20, seed=1)
    started = time.perf_counter()
    generate(model, count, seed=2)
    return (time.perf_counter() - started) * 1000 / count


class Measure:
    "Lesson 06's instruments, plus coverage and the distance to the training images."

    def __init__(self, bootstrap: int = 0):
        self.bootstrap = bootstrap
        train, heldout = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
        self.train_images, self.heldout_images = (
            scale_images(train.images),
            scale_images(heldout.images),
        )
        self.metrics = ImageMetrics(
            pretrained.load("mnist-classifier"), self.heldout_images, self.train_images
        )
        self.real_features = self.metrics.embed(self.heldout_images)[0]
        self.nearest_real = float(
            np.median(nearest_neighbour_distances(self.heldout_images, self.train_images))
        )
        self.floors = {}

    def spread(self, features, probabilities, floor: float) -> dict:
        "The standard deviation of the classifier score and the FCD ratio over resamples."
        rng, scores, ratios = np.random.default_rng(0), [], []
        for _ in range(self.bootstrap):
            index = rng.integers(0, len(features), len(features))
            scores.append(classifier_score(probabilities[index]))
            statistics = gaussian_statistics(features[index])
            ratios.append(frechet_distance(*statistics, *self.metrics.heldout_statistics) / floor)
        return {
            "classifier_score_sd": round(float(np.std(scores, ddof=1)), 3),
            "fcd_ratio_sd": round(float(np.std(ratios, ddof=1)), 3),
            "bootstrap": self.bootstrap,
        }

    def __call__(self, model, n: int) -> dict:
        images = generate(model, n, seed=0)[0]
        scores = self.metrics.scores(images)
        if n not in self.floors:
            self.floors[n] = self.metrics.real_floor(n)["fcd"]
        features, probabilities = self.metrics.embed(images)
        spread = self.spread(features, probabilities, self.floors[n]) if self.bootstrap else {}
        return {
            "n": n,
            "classifier_score": round(scores["classifier_score"], 3),
            "fcd": round(scores["fcd"], 2),
            "fcd_ratio": round(scores["fcd"] / self.floors[n], 3),
            "coverage": round(coverage(self.real_features, features), 3),
            "nearest_median": round(
                float(np.median(nearest_neighbour_distances(images, self.train_images))), 3
            ),
            "nearest_real": round(self.nearest_real, 3),
            "class_fractions": scores["class_fractions"],
            **spread,
        }


ROLES = ("model", "sweep", "guidance", "raw")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["dcgan-mnist", "vae-mnist"])
    parser.add_argument("--diffusion", default="diffusion-mnist", help="a name or a run directory")
    parser.add_argument("--n", type=int, nargs="+", default=[2000], help="the models' sizes")
    parser.add_argument("--sweep-n", type=int, default=1000)
    parser.add_argument("--steps", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--max-evaluations", type=int, default=32, help="skip costlier samplers")
    parser.add_argument("--guidance", type=float, nargs="+", default=[0.0, 1.0, 2.0, 3.0])
    parser.add_argument("--raw", help="the diffusion run's diffusion.weights.h5")
    parser.add_argument("--results", help="write the rows to this file (replacing it)")
    parser.add_argument("--append", action="store_true", help="add the rows to --results")
    parser.add_argument("--roles", nargs="+", default=list(ROLES), choices=ROLES)
    parser.add_argument("--bootstrap", type=int, default=0, help="resamples for the spread")
    args = parser.parse_args()
    measure, rows = Measure(args.bootstrap), []

    def add(row):
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "class_fractions"}), flush=True)

    diffusion = pretrained.load(args.diffusion)
    layer = diffusion.get_layer("flow_sampler")
    default = dict(steps=layer.steps, method=layer.method, guidance=layer.guidance)
    models = [*args.models, args.diffusion] if "model" in args.roles else []
    for name, n in ((name, n) for n in args.n for name in models):
        model = diffusion if name == args.diffusion else pretrained.load(name)
        is_flow = name == args.diffusion
        row = {"role": "model", "model": Path(name).name if is_flow else name, **measure(model, n)}
        row["sampler"] = (
            f"{default['method']}, {default['steps']} steps" if is_flow else "one network call"
        )
        row["evaluations"] = evaluations(**default) if is_flow else 1
        row["train_seconds"] = train_seconds(name)
        row["sample_seconds_per_1000"] = round(sampling_seconds(model), 2)
        add(row)
    network = layer.network
    for method in ("euler", "heun") if "sweep" in args.roles else ():
        for steps in args.steps:
            if evaluations(steps, method) > args.max_evaluations:
                continue
            sampler = flow_sampler(network, steps, method, default["guidance"])
            row = {
                "role": "sweep",
                "method": method,
                "steps": steps,
                **measure(sampler, args.sweep_n),
            }
            add({**row, "evaluations": evaluations(steps, method, default["guidance"])})
    for guidance in args.guidance if "guidance" in args.roles else ():
        row = {"role": "guidance", "method": "heun", "steps": 8, "guidance": guidance}
        swept = [
            r for r in rows if r["role"] == "sweep" and r["method"] == "heun" and r["steps"] == 8
        ]
        if guidance == default["guidance"] and swept:  # measured in the sweep already
            add({**swept[0], **row})
            continue
        sampler = flow_sampler(network, 8, "heun", guidance)
        add(
            {
                **row,
                **measure(sampler, args.sweep_n),
                "evaluations": evaluations(8, "heun", guidance),
            }
        )
    if args.raw and "raw" in args.roles:
        trained = build_flow_matching(layer.num_classes)
        trained.load_weights(args.raw)  # the raw weights and their average, as training left them
        for steps in [default["steps"]]:
            method, guidance = default["method"], default["guidance"]
            sampler = flow_sampler(trained.network, steps, method, guidance)
            row = {
                "role": "raw",
                "method": method,
                "steps": steps,
                **measure(sampler, args.sweep_n),
            }
            add({**row, "evaluations": evaluations(steps, method, guidance)})
    if args.results:
        before = Path(args.results).read_text(encoding="utf-8") if args.append else ""
        text = before + "".join(json.dumps(row) + "\n" for row in rows)
        write_text_atomically(args.results, text)
        print(f"wrote {len(rows)} rows to {args.results}")


if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    main()
