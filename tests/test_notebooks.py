"""The notebooks as learners open them: every page's Colab badge, launch link and bootstrap cell
match settings.ini, and every exercise survives "Run all" — the learner's cell is never overwritten,
solutions are collapsed in Colab and hidden on the site, and the checker checks the learner's answer
(failing, without stopping the notebook, while the exercise is not done)."""

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
import check_exercises  # noqa: E402
import colab  # noqa: E402

NOTEBOOKS = sorted((REPO / "nbs").glob("*.ipynb"))


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_every_notebook_has_the_badge_and_bootstrap_of_settings_ini():
    cfg = colab.settings()
    problems = [problem for path in NOTEBOOKS for problem in colab.problems_of(path, cfg)]
    assert not problems, "\n".join(problems) + "\nrun: python tools/colab.py --fix"
    bootstrap = colab.bootstrap_source(cfg)
    assert f'installed != "{cfg["version"]}"' in bootstrap and f"@v{cfg['version']}" in bootstrap
    assert "importlib.invalidate_caches()" in bootstrap


def test_the_site_launches_the_same_notebooks_in_colab():
    cfg, config = (
        colab.settings(),
        yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8")),
    )
    assert (
        config["repository"]["url"] == cfg["git_url"]
        and config["repository"]["branch"] == cfg["branch"]
    )
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    for path in NOTEBOOKS:  # every notebook is a page, so every notebook gets a launch button
        assert f"file: nbs/{path.stem}" in toc, f"{path.name} is not in _toc.yml"


def test_the_check_notices_a_wrong_badge(tmp_path):
    broken = tmp_path / "00_setup.ipynb"
    broken.write_text(
        (REPO / "nbs" / "00_setup.ipynb")
        .read_text(encoding="utf-8")
        .replace("/blob/main/", "/blob/dev/")
    )
    assert any("badge" in problem for problem in colab.problems_of(broken, colab.settings()))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_exercises_survive_run_all(path):
    assert not check_exercises.structure_problems(path)


def test_every_lesson_has_exercises_that_the_lint_sees():
    counted = {path.stem: len(check_exercises.exercises(_cells(path))) for path in NOTEBOOKS}
    assert all(counted[path.stem] >= 1 for path in NOTEBOOKS if path.stem[:2] <= "12"), counted


def test_the_lint_notices_a_solution_that_overwrites_the_learner(tmp_path):
    "The old layout — the solution cell defines the learner's own name — is reported."
    path = REPO / "nbs" / "00_setup.ipynb"
    text = path.read_text(encoding="utf-8").replace(
        "two_noise_batches_solution(seed)", "two_noise_batches(seed)"
    )
    (tmp_path / path.name).write_text(text, encoding="utf-8")
    problems = check_exercises.structure_problems(tmp_path / path.name)
    assert any(
        "overwrites the learner's ['two_noise_batches']" in problem for problem in problems
    ), problems


def test_run_all_with_exercises_unsolved_checks_the_learners_cells(monkeypatch, tmp_path):
    """Lesson 00 as a learner runs it: every exercise cell as it comes, "Run all". The notebook
    finishes, each checker reports the learner's answer as not attempted (returns False), and each
    reference solution passes its checker."""
    monkeypatch.setenv("GAN_LESSONS_PROFILE", "smoke")
    path = REPO / "nbs" / "00_setup.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    executed = tmp_path / path.name
    nbformat.write(notebook, executed)
    assert not check_exercises.executed_problems(executed)
    checks = [check for _, check, _ in check_exercises.exercises(_cells(executed))]
    assert len(checks) >= 2 and all("False" in json.dumps(check["outputs"]) for check in checks), (
        "returns False"
    )


@pytest.mark.slow  # executes a notebook in a fresh kernel
def test_a_wrong_answer_fails_its_check(tmp_path):
    """The checker checks the learner's cell: a wrong answer there is an error that names the
    mistake."""
    script = """
import keras, tensorflow as tf
from gan_lessons.exercises import ExerciseError
from gan_lessons.exercises_foundations import check_two_noise_batches
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
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert "ExerciseError: two_noise_batches: both batches are identical" in result.stdout, (
        result.stdout + result.stderr
    )
