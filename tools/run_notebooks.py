"""Execute notebooks top to bottom, each in a fresh kernel, as "Run all" would; report time,
failures and stand-ins.

    python tools/run_notebooks.py [--label NAME] [--out DIR] [--jobs N] nbs/00_setup.ipynb ...

The environment is passed through, so the caller chooses the path being tested: GAN_LESSONS_PROFILE,
GAN_LESSONS_MAX_STEPS (a capped dry run), GAN_LESSONS_DATA unset (the stand-ins), an older
TensorFlow (make compat). For every notebook it prints one line: OK or FAIL, seconds, and where the
notebook said it used stand-in data. Executed copies go to --out (default: a temporary folder); the
sources are never modified. Exit code 1 if any failed. With --jobs N, N notebooks run at once (the
lines come as each finishes); the seconds of each then include the others' competition."""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

STAND_IN_MARKS = ("USING AN OFFLINE STAND-IN", "stand-in data:")


def stand_in_notes(notebook) -> list:
    "The lines in a notebook's outputs where it announced stand-in data."
    notes = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = (
                output.get("text", "") if "text" in output else json.dumps(output.get("data", {}))
            )
            for line in text.splitlines():
                if any(mark in line for mark in STAND_IN_MARKS):
                    note = line.split("OfflineFallbackWarning:")[
                        -1
                    ]  # a warning's line starts with its source file
                    notes.append(note.strip().strip("!").strip()[:140])
    return list(dict.fromkeys(notes))


def run(path: Path, out_dir: Path, timeout: int) -> tuple[bool, float, list, str]:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.resolve().parent)}},
    )
    started, error = time.perf_counter(), ""
    try:
        client.execute()
    except CellExecutionError as failure:
        error = str(failure)
    nbformat.write(notebook, out_dir / path.name)
    return not error, time.perf_counter() - started, stand_in_notes(notebook), error


def report(folder: Path, label: str) -> int:
    "One line per executed notebook: where it announced stand-in data, or that it used none."
    executed = sorted(folder.rglob("*.ipynb"))
    for path in executed:
        notes = stand_in_notes(nbformat.read(path, as_version=4))
        print(
            f"[{label}] {path.name}: "
            + (f"stand-in data, {len(notes)} note(s) — {notes[0]}" if notes else "no stand-in data")
        )
    return 0 if executed else 1


def executed(notebooks: list, out_dir: Path, args):
    """`(path, run's result)` for each notebook, as each finishes: in this process, or with
    `--jobs N` in N worker processes (a kernel each), the next notebook to whichever is free."""
    if args.jobs <= 1:
        for path in notebooks:
            yield path, run(path, out_dir, args.timeout)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        running = {pool.submit(run, path, out_dir, args.timeout): path for path in notebooks}
        for future in as_completed(running):
            yield running[future], future.result()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument(
        "--report",
        type=Path,
        help="run nothing: say which executed notebooks under this folder "
        "(e.g. _build/jupyter_execute) used stand-in data",
    )
    parser.add_argument(
        "--label", default="notebooks", help="a name for this path in the printed lines"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where executed copies go (default: a temporary folder, removed if all ran)",
    )
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument(
        "--jobs", type=int, default=1, help="notebooks run at once, each in its own kernel (1)"
    )
    args = parser.parse_args(argv)
    if args.report:
        return report(args.report, args.label)
    scratch = args.out is None  # CI runs this several times a day: only failures keep their copies
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="executed-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    failed, total = [], time.perf_counter()
    for path, (ok, seconds, notes, error) in executed(args.notebooks, out_dir, args):
        print(
            f"[{args.label}] {'OK  ' if ok else 'FAIL'} {path.name} {seconds:.0f} s"
            + (f"; stand-in data: {len(notes)} note(s) — {notes[0]}" if notes else ""),
            flush=True,
        )
        if not ok:
            failed.append(path.name)
            print(error[-4000:], flush=True)
    if scratch and not failed:
        shutil.rmtree(out_dir)
    print(
        f"[{args.label}] {len(args.notebooks) - len(failed)} of {len(args.notebooks)} notebooks "
        f"ran, {time.perf_counter() - total:.0f} s"
        + (f"; FAILED: {failed}; executed copies in {out_dir}" if failed else "")
        + (f"; executed copies in {out_dir}" if not scratch and not failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
