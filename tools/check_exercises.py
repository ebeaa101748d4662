"""Exercises that survive "Run all", checked on notebooks as written and as executed.

    python tools/check_exercises.py                         # every exercise's structure in nbs/
    python tools/check_exercises.py _build/jupyter_execute  # also what the executed copies printed

Structure: an exercise cell (marked `# your code`, `# your answer` or `# your model`) is followed by
the check of the learner's names, then by the solution — a collapsed form in Colab (`# @title …
{display-mode: "form"}`), hidden on the site (`hide-cell`) — which never rebinds the learner's
names. Executed: each check, run on the untouched exercise cell, said "not attempted yet"; each
solution's own check said "correct"."""

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_TITLE = '# @title Solution (double-click to see the code) {display-mode: "form"}'
LEARNER_MARKERS = ("# your code", "# your answer", "# your model")


def source(cell) -> str:
    return "".join(cell["source"])


def tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def assigned_names(code: str) -> set:
    "Names a cell binds at its top level: assignments, functions, classes, imports."
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(
                    element.id for element in ast.walk(target) if isinstance(element, ast.Name)
                )
    return names


def exercises(cells) -> list:
    "(exercise cell, check cell, solution cell) for every exercise cell in a notebook's cells."
    return [
        (cells[index], cells[index + 1], cells[index + 2])
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code" and any(marker in source(cell) for marker in LEARNER_MARKERS)
    ]


def structure_problems(path: Path) -> list:
    cells, problems = json.loads(path.read_text(encoding="utf-8"))["cells"], []
    for learner, check, solution in exercises(cells):
        where = f"{path.name}, exercise cell {learner['id']}"
        names = assigned_names(source(learner))
        used = {
            node.id for node in ast.walk(ast.parse(source(check))) if isinstance(node, ast.Name)
        }
        if not names:
            problems.append(f"{where}: the exercise cell defines nothing for a check to check")
        elif not names & used:
            problems.append(f"{where}: the next cell must check the learner's {sorted(names)}")
        if "hide-cell" in tags(learner) or "hide-cell" in tags(check):
            problems.append(f"{where}: the exercise and its check must be shown on the site")
        if not source(solution).startswith(SOLUTION_TITLE) or "hide-cell" not in tags(solution):
            problems.append(
                f"{where}: the third cell must be the solution, a Colab form hidden on the site"
            )
        elif names & assigned_names(source(solution)):
            problems.append(
                f"{where}: the solution overwrites the learner's "
                f"{sorted(names & assigned_names(source(solution)))}"
            )
    for cell in cells:
        if (
            cell["cell_type"] == "code"
            and "hide-cell" in tags(cell)
            and not source(cell).startswith(SOLUTION_TITLE)
        ):
            problems.append(
                f"{path.name} {cell['id']}: a hidden answer must be a collapsed form in Colab too"
            )
    return problems


def output_text(cell) -> str:
    "Everything a cell printed or displayed (nbformat may store text as a list of lines)."
    parts = []
    for output in cell.get("outputs", []):
        text = output.get("text", "")
        parts.append("".join(text) if isinstance(text, list) else text)
        parts.append(json.dumps(output.get("data", {})))
    return "".join(parts)


def executed_problems(path: Path) -> list:
    problems = []
    for learner, check, solution in exercises(
        json.loads(path.read_text(encoding="utf-8"))["cells"]
    ):
        where = f"{path.name} (executed), exercise cell {learner['id']}"
        if "not attempted yet" not in output_text(check):
            problems.append(
                f"{where}: the check did not report the untouched exercise as not attempted"
            )
        if "correct" not in output_text(solution) or "not attempted" in output_text(solution):
            problems.append(f"{where}: the solution did not pass its check")
    return problems


def main(argv) -> int:
    notebooks = sorted((ROOT / "nbs").glob("*.ipynb"))
    problems = [problem for path in notebooks for problem in structure_problems(path)]
    count = sum(
        len(exercises(json.loads(path.read_text(encoding="utf-8"))["cells"])) for path in notebooks
    )
    if argv:
        executed = sorted(Path(argv[0]).rglob("*.ipynb"))
        if not executed:
            problems.append(f"no executed notebooks under {argv[0]}")
        problems += [problem for path in executed for problem in executed_problems(path)]
    print(
        "\n".join(problems)
        if problems
        else f"exercises: {count} exercise cells "
        f"checked{' as written and as executed' if argv else ''}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
