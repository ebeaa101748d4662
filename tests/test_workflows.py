"""The GitHub workflows a visitor sees run what the README says: `make test` (and the two other
paths .ci/run covers) on every push and pull request, `make book` published to GitHub Pages."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def _commands(workflow: dict) -> list[str]:
    return [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]


def _readme_commands() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"^(make [a-z-]+)", readme, flags=re.M))


def test_the_test_workflow_runs_the_readme_test_commands_on_push_and_pull_request():
    workflow = _workflow("test.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    commands = _commands(workflow)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in ("make test", "make test-paths", "make compat"):
        assert command in commands and command in _readme_commands() and command in ci, command
    assert commands.index("make test") < commands.index("make test-paths")


def test_the_book_workflow_builds_with_the_readme_command_and_publishes_pages():
    workflow = _workflow("book.yml")
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert "make book" in _commands(workflow) and "make book" in _readme_commands()
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert workflow["permissions"]["pages"] == "write"


def test_both_workflows_cache_pip_and_the_data():
    for name in ("test.yml", "book.yml"):
        paths = [
            step["with"]["path"]
            for job in _workflow(name)["jobs"].values()
            for step in job["steps"]
            if step.get("uses", "").startswith("actions/cache")
        ]
        assert "~/.cache/pip" in paths and "~/.keras/datasets" in paths, name


def test_the_models_workflow_measures_every_shipped_model_on_a_schedule():
    "The release measurement is `make models`, run weekly, not `make test`."
    workflow = _workflow("models.yml")
    triggers = workflow.get("on", workflow.get(True))
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    assert "make models" in _commands(workflow) and "make models" in _readme_commands()
    step = next(
        s for j in workflow["jobs"].values() for s in j["steps"] if s.get("run") == "make models"
    )
    assert step["env"]["GAN_LESSONS_DATA"]  # the records' data: the official test split alone
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "benchmarks/shipped_models.py" in makefile.split("\nmodels:")[1].split("\n\n")[0]
