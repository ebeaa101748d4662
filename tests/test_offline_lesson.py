"""Offline, with GAN_LESSONS_DATA unset and an empty Keras cache, lesson 01 still runs top to bottom
and says loudly which fallback it used."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # executes lesson 01 in a fresh kernel, offline
def test_lesson_01_runs_offline_and_announces_its_fallback(monkeypatch, tmp_path):
    monkeypatch.delenv("GAN_LESSONS_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    monkeypatch.setenv("GAN_LESSONS_OFFLINE", "1")
    monkeypatch.setenv("GAN_LESSONS_PROFILE", "smoke")
    notebook = nbformat.read(REPO / "nbs" / "01_data.ipynb", as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO / "nbs")}},
    ).execute()  # raises on any failing cell
    outputs = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    ]
    stderr = "".join(output.get("text", "") for output in outputs if output.get("name") == "stderr")
    stdout = "".join(output.get("text", "") for output in outputs if output.get("name") == "stdout")
    first_load = next(
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and 'load_mnist("train")' in cell.source
    )
    first_load_text = json.dumps(first_load.outputs)
    assert "USING AN OFFLINE STAND-IN" in first_load_text, (
        "the first load must announce the fallback where it happens"
    )
    assert (
        "USING AN OFFLINE STAND-IN" in stderr and "offline fallback: scikit-learn digits" in stdout
    )
    assert "could not be loaded" in stdout, (
        "the text loader says what it tried instead of stopping the lesson"
    )
