"""The notebooks as learners open them: every page's Colab badge, launch link and bootstrap cell match settings.ini,
and every exercise survives "Run all" — the learner's cell is never overwritten, solutions are collapsed in Colab and
hidden on the site, and the checker checks the learner's answer (failing, without stopping the notebook, while the
exercise is not done)."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import colab  # noqa: E402

NOTEBOOKS = sorted((REPO / "nbs").glob("*.ipynb"))
SOLUTION_TITLE = '#@title Solution (double-click to see the code) {display-mode: "form"}'
LEARNER_MARKERS = ("# your code", "# your answer", "# your model")


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _assigned_names(source: str) -> set:
    "Names a cell binds at its top level: assignments, functions, classes, imports."
    names = set()
    for node in ast.parse(source).body:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        for target in targets:
            names.update(element.id for element in ast.walk(target) if isinstance(element, ast.Name))
    return names


def test_every_notebook_has_the_badge_and_bootstrap_of_settings_ini():
    cfg = colab.settings()
    problems = [problem for path in NOTEBOOKS for problem in colab.problems_of(path, cfg)]
    assert not problems, "\n".join(problems) + "\nrun: python tools/colab.py --fix"
    bootstrap = colab.bootstrap_source(cfg)
    assert f'installed != "{cfg["version"]}"' in bootstrap and f"@v{cfg['version']}" in bootstrap
    assert "importlib.invalidate_caches()" in bootstrap


def test_the_site_launches_the_same_notebooks_in_colab():
    cfg, config = colab.settings(), yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"] == cfg["git_url"] and config["repository"]["branch"] == cfg["branch"]
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    for path in NOTEBOOKS:  # every notebook is a page, so every notebook gets a launch button
        assert f"file: nbs/{path.stem}" in toc, f"{path.name} is not in _toc.yml"


def test_the_check_notices_a_wrong_badge(tmp_path):
    broken = tmp_path / "00_setup.ipynb"
    broken.write_text((REPO / "nbs" / "00_setup.ipynb").read_text(encoding="utf-8").replace("/blob/main/", "/blob/dev/"))
    assert any("badge" in problem for problem in colab.problems_of(broken, colab.settings()))


def _exercises(path):
    "(learner cell, check cell, solution cell) triples, and worked answers that have no learner cell."
    cells = _cells(path)
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and any(marker in _source(cell) for marker in LEARNER_MARKERS):
            yield cells[index], cells[index + 1], cells[index + 2]


@pytest.mark.parametrize("path", [path for path in NOTEBOOKS if any(True for _ in _exercises(path))], ids=lambda p: p.stem)
def test_exercises_survive_run_all(path):
    for learner, check, solution in _exercises(path):
        where = f"{path.name}, exercise cell {learner['id']}"
        learner_names = _assigned_names(_source(learner))
        assert learner_names, f"{where}: the exercise cell defines nothing for the checker to check"
        assert "hide-cell" not in _tags(learner) and "hide-cell" not in _tags(check), f"{where}: shown on the site"
        used = {node.id for node in ast.walk(ast.parse(_source(check))) if isinstance(node, ast.Name)}
        assert learner_names & used, f"{where}: the next cell must check the learner's {sorted(learner_names)}"
        assert _source(solution).startswith(SOLUTION_TITLE), f"{where}: the solution must be a collapsed Colab form"
        assert "hide-cell" in _tags(solution), f"{where}: the solution must be hidden on the site"
        overwritten = learner_names & _assigned_names(_source(solution))
        assert not overwritten, f"{where}: the solution cell overwrites the learner's {sorted(overwritten)}"
    for cell in _cells(path):  # every hidden code answer is a collapsed form in Colab too
        if cell["cell_type"] == "code" and "hide-cell" in _tags(cell):
            assert _source(cell).startswith(SOLUTION_TITLE), f"{path.name} {cell['id']}: not collapsed in Colab"


def test_the_lint_notices_a_solution_that_overwrites_the_learner():
    learner, _, solution = next(triple for triple in _exercises(REPO / "nbs" / "00_setup.ipynb")
                                if "def " in _source(triple[2]))
    assert not _assigned_names(_source(learner)) & _assigned_names(_source(solution))
    assert _assigned_names(_source(learner)) & _assigned_names(_source(solution).replace("_solution", "")), \
        "the old layout (solution under the learner's name) would be caught"


@pytest.mark.slow
def test_run_all_with_exercises_unsolved_checks_the_learners_cells(monkeypatch):
    """Lesson 00 as a learner runs it: every exercise cell as it comes, "Run all". The notebook finishes, each checker
    reports the learner's answer as not attempted (returns False), and each reference solution passes its checker."""
    monkeypatch.setenv("GAN_LESSONS_PROFILE", "smoke")
    path = REPO / "nbs" / "00_setup.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    executed = {cell.id: cell for cell in notebook.cells}
    checked = 0
    for learner, check, solution in _exercises(path):
        check_output = json.dumps(executed[check["id"]].outputs)
        solution_output = json.dumps(executed[solution["id"]].outputs)
        assert "not attempted yet" in check_output and "False" in check_output, check_output
        assert "correct" in solution_output and "not attempted" not in solution_output, solution_output
        checked += 1
    assert checked >= 2


@pytest.mark.slow
def test_a_wrong_answer_fails_its_check(tmp_path):
    "The checker checks the learner's cell: a wrong answer there is an error that names the mistake."
    script = """
import keras, tensorflow as tf
from gan_lessons.exercises import ExerciseError, check_two_noise_batches
def two_noise_batches(seed):  # a typical mistake: re-seeding between the two draws
    keras.utils.set_random_seed(seed)
    first = tf.random.normal((16, 100))
    keras.utils.set_random_seed(seed)
    return first, tf.random.normal((16, 100))
try:
    check_two_noise_batches(two_noise_batches)
except ExerciseError as error:
    print("ExerciseError:", error)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "ExerciseError: two_noise_batches: both batches are identical" in result.stdout, result.stdout + result.stderr
