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


def test_each_stage_is_timed_and_a_failing_one_still_reported(tmp_path):
    "tools/stages.py: the exit status passes through, and the report names the stage that failed."
    import json
    import subprocess
    import sys

    log, stages = tmp_path / "stages.jsonl", [sys.executable, str(ROOT / "tools" / "stages.py")]
    assert subprocess.call([*stages, "run", str(log), "fine", "--", "true"]) == 0
    assert subprocess.call([*stages, "run", str(log), "broken", "--", "sh", "-c", "exit 3"]) == 3
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(row["stage"], row["status"]) for row in rows] == [("fine", 0), ("broken", 3)]
    report = subprocess.run(
        [*stages, "report", str(log), str(tmp_path / "never-ran.jsonl"), "--title", "t"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "fine" in report and "broken  FAILED (exit 3)" in report
    assert report.splitlines()[-1].endswith("total; FAILED: ['broken']")


def test_make_test_builds_the_site_on_the_stand_ins_and_ci_takes_the_other_paths():
    "The smoke site build is a newcomer's path; .ci/run adds the gpu dry run and compat."
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    smoke = makefile.split("\nsmoke-book:")[1].split("\n\n")[0]
    assert "env -u GAN_LESSONS_DATA" in smoke and "KERAS_HOME=" in smoke
    assert "GAN_LESSONS_OFFLINE=1" in smoke and "GAN_LESSONS_PROFILE=smoke" in smoke
    test = makefile.split("\ntest: install")[1].split("\n\n")[0]
    for stage in ("lint", "export check", "pytest", "smoke-book", "site-check", "stages.py report"):
        assert stage in test, stage
    paths = makefile.split("\ntest-paths:")[1].split("\n\n")[0]
    assert "GAN_LESSONS_PROFILE=gpu" in paths and "GAN_LESSONS_MAX_STEPS=2" in paths
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index("make test\n") < ci.index("make test-paths") < ci.index("make compat")
