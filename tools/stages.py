"""Time the stages of `make test` and `.ci/run`, and say what each cost.

    python tools/stages.py run LOG NAME -- COMMAND ...   # run COMMAND, append its seconds to LOG
    python tools/stages.py report LOG [LOG ...] [--site _build/html] [--title TEXT]

`run` passes COMMAND's exit status through, so a failing stage still fails the target; the stage
is logged either way (one JSON object per line). `report` prints every logged stage with its
seconds and whether it passed, the notebooks of a built site (its build report's execution
table, slowest first) under the stage that built it, and the total — so the next change that
makes the checks slow is seen at once. Standard library only: it starts in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def run(log: Path, name: str, command: list[str]) -> int:
    "Run `command`, log its seconds under `name`, return its exit status."
    started = time.perf_counter()
    print(f"[stage] {name}: {' '.join(command)}", flush=True)
    status = subprocess.call(command)
    seconds = time.perf_counter() - started
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as out:
        out.write(
            json.dumps({"stage": name, "seconds": round(seconds, 1), "status": status}) + "\n"
        )
    print(f"[stage] {name}: {'passed' if status == 0 else 'FAILED'} in {seconds:.0f} s", flush=True)
    return status


def notebook_seconds(site: Path) -> dict[str, float]:
    "Seconds per executed notebook of a built site, from its build report; empty without one."
    from lesson_times import read_build_report  # the same reading as the home page's table

    try:
        return read_build_report(site)
    except SystemExit:  # no site, or a build that failed before its report
        return {}


def report(logs: list[Path], site: Path | None, title: str) -> str:
    "The table of the stages logged (in `logs`, in order), the book's notebooks, and the total."
    stages = [
        json.loads(line)
        for log in logs
        if log.is_file()  # a target that never started logs nothing
        for line in log.read_text(encoding="utf-8").splitlines()
        if line
    ]
    notebooks = notebook_seconds(site) if site else {}
    lines = [f"[{title}] seconds per stage"]
    for stage in stages:
        mark = "" if stage["status"] == 0 else f"  FAILED (exit {stage['status']})"
        lines.append(f"[{title}]   {stage['seconds']:7.0f} s  {stage['stage']}{mark}")
        if "book" in stage["stage"] and notebooks:
            for name, seconds in sorted(notebooks.items(), key=lambda item: -item[1]):
                lines.append(f"[{title}]   {seconds:7.0f} s      {name}")
            notebooks = {}  # listed once, under the first stage that built the site
    total = sum(stage["seconds"] for stage in stages)
    failed = [stage["stage"] for stage in stages if stage["status"] != 0]
    lines.append(f"[{title}]   {total:7.0f} s  total" + (f"; FAILED: {failed}" if failed else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        if "--" not in argv or argv.index("--") != 3 or len(argv) < 5:
            raise SystemExit("usage: stages.py run LOG NAME -- COMMAND ...")
        return run(Path(argv[1]), argv[2], argv[4:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["report"])
    parser.add_argument("logs", type=Path, nargs="+")
    parser.add_argument("--site", type=Path, help="a built site whose notebooks to list")
    parser.add_argument("--title", default="stages")
    args = parser.parse_args(argv)
    print(report(args.logs, args.site, args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
