"""The layout the course promises its readers: modules of one concern and readable size, exported
cells short enough to read between their checks, lesson 05 a loop first."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_CELL_LINES, MAX_MODULE_LINES = 50, 400


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_no_exported_cell_is_longer_than_fifty_lines():
    long = [
        f"{path.name} cell {cell['id']}: {len(_source(cell).splitlines())} lines"
        for path in sorted((ROOT / "nbs").glob("*.ipynb"))
        for cell in _cells(path)
        if cell["cell_type"] == "code"
        and _source(cell).startswith("#| export")
        and len(_source(cell).splitlines()) > MAX_CELL_LINES
    ]
    assert not long, "split these into documented pieces: " + "; ".join(long)


def test_no_module_is_longer_than_four_hundred_lines():
    exempt = {"_modidx.py", "exercises.py"}  # the index nbdev writes; the catalogue of checkers
    long = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "gan_lessons").glob("*.py")
        if path.name not in exempt
    }
    assert all(lines <= MAX_MODULE_LINES for lines in long.values()), {
        name: lines for name, lines in long.items() if lines > MAX_MODULE_LINES
    }


def test_lesson_05_teaches_the_loop_first():
    cells = _cells(ROOT / "nbs" / "05_training.ipynb")
    exported = [cell for cell in cells if _source(cell).startswith("#| export")]
    first_step = next(cell for cell in exported if "def train_step(" in _source(cell))
    assert len(_source(first_step).splitlines()) <= 25
    training = next(
        index
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        and "train_step = make_train_step(" in _source(cell)
        or "step(" in _source(cell)
        and "for epoch in range" in _source(cell)
    )
    assert training < len(cells) / 4, f"the first training loop is cell {training} of {len(cells)}"
    prose = sum(
        len(re.findall(r"\S+", _source(cell))) for cell in cells if cell["cell_type"] == "markdown"
    )
    assert prose <= 1600, f"lesson 05 has {prose} words of prose"
