"""Fail if `nbdev_export` would change gan_lessons/: the package must be exactly what the notebooks
export.

The export runs in a temporary copy, so the working tree is never modified."""

import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

root = Path(__file__).resolve().parent.parent


def differences(left: Path, right: Path) -> list:
    found = []
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__"])
    found += [f"only in the repository: {left / name}" for name in comparison.left_only]
    found += [
        f"missing from the repository (the notebooks export it): {name}"
        for name in comparison.right_only
    ]
    _, mismatch, errors = filecmp.cmpfiles(left, right, comparison.common_files, shallow=False)
    found += [f"differs from the export: {left / name}" for name in mismatch + errors]
    for sub in comparison.common_dirs:
        found += differences(left / sub, right / sub)
    return found


with tempfile.TemporaryDirectory() as scratch:
    copy = Path(scratch) / "repo"
    copy.mkdir()
    for name in ("settings.ini", "nbs", "gan_lessons"):
        source = root / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, copy / name)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    subprocess.run(
        [sys.executable, "-c", "from nbdev.doclinks import nbdev_export; nbdev_export()"],
        cwd=copy,
        check=True,
    )
    problems = differences(root / "gan_lessons", copy / "gan_lessons")

if problems:
    print(
        "gan_lessons/ is out of sync with the notebooks in nbs/. Edit the notebooks, run `make "
        "export`, commit:"
    )
    print("\n".join("  " + line for line in problems))
    sys.exit(1)
print("export check: gan_lessons/ is exactly what nbdev_export makes of nbs/")
