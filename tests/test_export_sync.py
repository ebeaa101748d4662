"""The package is exactly what nbdev exports from the notebooks — and the check notices when it is
not."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHECK = ["tools/check_export.py"]


def run_check(root):
    return subprocess.run([sys.executable, *CHECK], cwd=root, capture_output=True, text=True)


def test_package_is_in_sync_with_notebooks():
    result = run_check(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_hand_edit_of_the_package_is_detected(tmp_path):
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("settings.ini", "nbs", "gan_lessons", "tools"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(
            source,
            copy / name,
            **({"ignore": shutil.ignore_patterns("__pycache__")} if source.is_dir() else {}),
        )
    with open(copy / "gan_lessons" / "generator.py", "a") as handle:
        handle.write("\n# a hand edit\n")
    result = run_check(copy)
    assert (
        result.returncode == 1
        and "differs from the export" in result.stdout
        and "generator.py" in result.stdout
    )
