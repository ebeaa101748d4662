"""Measure every shipped model again — the release measurement, not a unit test.

    .venv/bin/python benchmarks/shipped_models.py [NAME ...] [--json FILE] [--record | --cards]
    make models    # every model, writing _build/shipped_models.json

For each model (default: all of `gan_lessons.pretrained.available()`): the sha-256 of its file
against its record, then the reports its record holds, measured again the way the card says
(`gan-lessons evaluate NAME --json`, and `--cas --json` where its targets read the CAS), each
headline number beside the recorded one, and its targets. A table is printed, and with `--json`
every row is written as one JSON document.

Exit status 1 when a file no longer matches its record, a number moved beyond the measurement's
noise (`--tolerance`), or a required target is missed. `--record` instead writes the new reports
and the file's sha-256 into the record and the card's metrics section from them — what the publish
step (`tools/publish_pretrained.py`) does for a new model; `--cards` measures nothing and rewrites
each card's metrics from its record (after the cards' wording changed). Needs the real MNIST files
the records were measured with: `GAN_LESSONS_DATA` pointing at the official test split alone
(training images 0–7,999, held-out 8,000–9,999), as the data note at the end of the table says.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import time
from pathlib import Path

from gan_lessons.cli import import_tensorflow_quietly  # noqa: E402 (no TensorFlow yet)

import_tensorflow_quietly()  # TensorFlow's start-up lines would bury the table

from gan_lessons import model_cards, pretrained  # noqa: E402
from gan_lessons.files import (  # noqa: E402
    model_info_path,
    sha256_of,
    write_json_atomically,
    write_text_atomically,
)

NOT_MEASURED_AGAIN = ("n_samples", "n", "heldout_images", "heldout_characters", "steps")


def measure(model, names: list[str]) -> dict:
    """`gan-lessons evaluate MODEL` with each measurement's flags (`model_cards.MEASUREMENTS`):
    `{measurement: the JSON report}`. `model` is a pretrained name or a run directory."""
    from gan_lessons.cli import main  # TensorFlow: only when something is measured

    reports = {}
    for name in names:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = main(["evaluate", str(model), *model_cards.MEASUREMENTS[name]])
        if code != 0:
            raise SystemExit(f"gan-lessons evaluate {model} {name} failed (exit {code})")
        reports[name] = json.loads(printed.getvalue())
    return reports


def recorded_measurement(path: Path, reports: dict, from_training: dict | None = None) -> dict:
    "The `measured` field of a record: the file's sha-256, the reports, numbers from training."
    measured = {"weights_sha256": sha256_of(path), "reports": reports}
    if from_training:
        measured["from_training"] = from_training
    return measured


def with_card_metrics(card: str, metrics: str) -> str:
    "`card` with its `## Metrics` section (up to the next `## ` heading) replaced by `metrics`."
    start = card.index("## Metrics")
    end = card.find("\n## ", start + 1)
    return card[:start] + metrics.rstrip("\n") + "\n" + (card[end:] if end != -1 else "")


def record(name: str, reports: dict) -> None:
    "Write `reports` and the file's sha-256 into `name`'s record, and its card's metrics from them."
    path = pretrained.model_path(name)
    info = pretrained.read_model_info(path)
    previous = info.get("measured", {})
    info["measured"] = recorded_measurement(path, reports, previous.get("from_training"))
    write_json_atomically(model_info_path(path), info)
    write_card_metrics(name, info)


def write_card_metrics(name: str, info: dict | None = None) -> None:
    "Rewrite the metrics section of `name`'s card from its record (`info`, default the shipped)."
    info = info or pretrained.read_model_info(pretrained.model_path(name))
    card_path = pretrained.assets_dir() / f"{name}.md"
    card = card_path.read_text(encoding="utf-8")
    write_text_atomically(card_path, with_card_metrics(card, model_cards.card_metrics(name, info)))


def compare(name: str, reports: dict, tolerance: float) -> tuple[list[dict], bool]:
    "One row per headline number: recorded, measured, whether it held; and whether all did."
    path = pretrained.model_path(name)
    measured = (pretrained.read_model_info(path) or {}).get("measured") or {}
    same_file = measured.get("weights_sha256") == sha256_of(path)
    recorded = model_cards.headline(measured["reports"]) if measured.get("reports") else {}
    now = model_cards.headline(reports)
    targets = {target.metric: target for target in model_cards.TARGETS.get(name, [])}
    rows, ok = [], same_file
    for metric, value in now.items():
        if metric in NOT_MEASURED_AGAIN and metric not in targets:
            continue
        before = recorded.get(metric)
        steady = before is not None and math.isclose(
            value, before, rel_tol=tolerance, abs_tol=tolerance / 2
        )
        target = targets.get(metric)
        met = None if target is None else target.met(now)
        ok &= steady and (met is not False or not target.required)
        rows.append(
            dict(
                model=name,
                metric=metric,
                recorded=before,
                measured=value,
                steady=steady,
                target=None if target is None else repr(target),
                required=None if target is None else target.required,
                met=met,
            )
        )
    return rows, ok


def data_note() -> str:
    """The training split behind the real-vs-real floors: the records' is MNIST test images
    0–7,999 (the official test split alone), and a floor measured on other images moves."""
    from gan_lessons.data import load_mnist

    return load_mnist("train", fallback=False, verbose=False).note


def table(rows: list[dict]) -> str:
    "The rows as aligned text: model, number, recorded, measured, held, target."
    width = max([len("metric")] + [len(row["metric"]) for row in rows])
    lines = [f"{'model':24} {'metric':{width}} {'recorded':>10} {'measured':>10}  held  target"]
    for row in rows:
        before = "—" if row["recorded"] is None else f"{row['recorded']:.4g}"
        target = ""
        if row["target"]:
            verdict = "met" if row["met"] else "MISSED" if row["required"] else "aim not met"
            target = f"{row['target']} ({verdict})"
        lines.append(
            f"{row['model']:24} {row['metric']:{width}} {before:>10} {row['measured']:>10.4g}  "
            f"{'yes ' if row['steady'] else 'NO  '}  {target}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="shipped models (default: all)")
    parser.add_argument("--json", type=Path, help="write every row and each model's verdict here")
    parser.add_argument("--record", action="store_true", help="write the new numbers into records")
    parser.add_argument(
        "--cards",
        action="store_true",
        help="measure nothing: rewrite each card's metrics from its record",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.01,
        help="relative change allowed before a number counts as moved (0.01)",
    )
    args = parser.parse_args(argv)
    names = args.names or pretrained.available()
    unknown = sorted(set(names) - set(pretrained.available()))
    if unknown:
        parser.error(f"unknown {unknown}: expected some of {', '.join(pretrained.available())}")
    if args.cards:
        for name in names:
            write_card_metrics(name)
        return 0
    rows, verdicts, started = [], {}, time.perf_counter()
    for name in names:
        began = time.perf_counter()
        reports = measure(name, model_cards.measurements(name))
        if args.record:
            record(name, reports)
        model_rows, ok = compare(name, reports, args.tolerance)
        rows += model_rows
        verdicts[name] = dict(
            ok=ok,
            seconds=round(time.perf_counter() - began, 1),
            weights_sha256=sha256_of(pretrained.model_path(name)),
        )
        print(
            f"[models] {name}: {'as recorded' if ok else 'NOT as recorded'}, "
            f"{verdicts[name]['seconds']:.0f} s",
            flush=True,
        )
    print(table(rows))
    print(f"[models] real images behind the floors: {data_note()}")
    failed = [name for name, verdict in verdicts.items() if not verdict["ok"]]
    print(
        f"[models] {len(names) - len(failed)} of {len(names)} models as recorded, "
        f"{time.perf_counter() - started:.0f} s" + (f"; NOT: {failed}" if failed else "")
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(args.json, {"data": data_note(), "models": verdicts, "rows": rows})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
