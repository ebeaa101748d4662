"""Record how long each lesson took in a built site, and show it on the home page.

    python tools/lesson_times.py record PROFILE _build/html  # after a build in that profile

reads the execution table of the build report (`_build/html/nbs/build_report.html`, written by
Jupyter Book), stores the times in `nbs/lesson_times.json` with the date, the commit and the
machine, and rewrites the table between the markers in `nbs/index.md`. `python tools/lesson_times.py
show` only rewrites the table. Nothing is guessed: a profile without a recorded build says so.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMES = ROOT / "nbs" / "lesson_times.json"
INDEX = ROOT / "nbs" / "index.md"
START, END = "<!-- lesson-times:start -->", "<!-- lesson-times:end -->"
PROFILES = ("smoke", "cpu", "gpu")


def read_build_report(site: Path) -> dict[str, float]:
    "Seconds per notebook from the build report's execution table, e.g. {'05_training': 893.98}."
    report = site / "nbs" / "build_report.html"
    if not report.is_file():
        raise SystemExit(
            f"no {report}: build the site first (make book, or make test for the smoke profile)"
        )
    times = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", report.read_text(encoding="utf-8"), re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if len(cells) >= 4 and cells[0].startswith("nbs/"):
            times[cells[0][len("nbs/") :]] = float(cells[3])
    if not times:
        raise SystemExit(f"{report} has no execution table rows: was the site built with `--all`?")
    return times


def lessons_in_order() -> list[str]:
    "Lesson notebooks (two-digit numbers below 90) in the order of the table of contents' files."
    return sorted(path.stem for path in (ROOT / "nbs").glob("[0-8][0-9]_*.ipynb"))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def table(records: dict) -> str:
    titles = {}
    for line in INDEX.read_text(
        encoding="utf-8"
    ).splitlines():  # link texts of the lesson map above the table
        found = re.match(r"\| \[(\d\d [^\]]+)\]\((\d\d_\w+)\.ipynb\)", line)
        if found:
            titles[found.group(2)] = found.group(1)
    lines = [
        "| lesson | " + " | ".join(f"`{profile}`" for profile in PROFILES) + " |",
        "| --- |" + " ---: |" * len(PROFILES),
    ]
    for lesson in lessons_in_order():
        cells = [
            duration(records.get(profile, {}).get("seconds", {}).get(lesson))
            for profile in PROFILES
        ]
        lines.append(f"| {titles.get(lesson, lesson)} | " + " | ".join(cells) + " |")
    notes = []
    for profile in PROFILES:
        record = records.get(profile)
        if record:
            total = sum(record["seconds"].get(lesson, 0.0) for lesson in lessons_in_order())
            notes.append(
                f"`{profile}`: measured {record['date']} on {record['machine']} at commit "
                f"{record['commit']}, {duration(total)} for all lessons"
            )
        else:
            notes.append(
                f"`{profile}`: not measured yet"
                + (" (the build machines have no GPU)" if profile == "gpu" else "")
            )
    return "\n".join(lines) + "\n\n" + "; ".join(notes) + "."


def show() -> None:
    records = json.loads(TIMES.read_text(encoding="utf-8")) if TIMES.is_file() else {}
    text = INDEX.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{INDEX} has no {START} … {END} markers to put the table between")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    INDEX.write_text(f"{before}{START}\n{table(records)}\n{END}{after}", encoding="utf-8")
    print(f"wrote the lesson-time table into {INDEX.relative_to(ROOT)}")


def record(profile: str, site: Path) -> None:
    if profile not in PROFILES:
        raise SystemExit(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    records = json.loads(TIMES.read_text(encoding="utf-8")) if TIMES.is_file() else {}
    # the commit of the checkout the site was built in (a clone elsewhere, or this one)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=site, capture_output=True, text=True
    ).stdout.strip()
    records[profile] = dict(
        date=datetime.date.today().isoformat(),
        commit=commit or "unknown",
        machine=f"a {os.cpu_count()}-core {platform.machine()} machine",
        seconds=read_build_report(site),
    )
    partial = TIMES.with_suffix(".json.partial")  # a rename, so the file is never half written
    partial.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(TIMES)
    print(
        f"recorded {len(records[profile]['seconds'])} notebooks for the {profile} profile in "
        f"{TIMES.relative_to(ROOT)}"
    )
    show()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["show"] and len(arguments) == 1:
        show()
    elif arguments[:1] == ["record"] and len(arguments) == 3:
        record(arguments[1], Path(arguments[2]))
    else:
        raise SystemExit(__doc__)
