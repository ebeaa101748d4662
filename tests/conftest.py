"""Shared fixtures. Tests never use the network: downloads are switched off here."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["GAN_LESSONS_OFFLINE"] = "1"

REPO = Path(__file__).resolve().parent.parent


def _shared_data_dir():
    value = os.environ.get("GAN_LESSONS_DATA")
    if value:
        return Path(value)
    candidate = REPO.parent / "shared" / "data"  # the layout of this project's machines and CI
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def real_data_dir():
    """The folder of real data files (GAN_LESSONS_DATA, or ../shared/data); tests needing it are
    skipped without it."""
    folder = _shared_data_dir()
    if folder is None or not (folder / "mnist" / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(
            "real data not available: set GAN_LESSONS_DATA to the folder described in "
            "shared/data/README.md"
        )
    return folder


@pytest.fixture
def with_data(real_data_dir, monkeypatch):
    "GAN_LESSONS_DATA set to the real data folder for this test."
    monkeypatch.setenv("GAN_LESSONS_DATA", str(real_data_dir))
    return real_data_dir


@pytest.fixture(scope="session")
def mnist_metrics(real_data_dir):
    """The lesson-06 instruments as the course uses them: `(ImageMetrics, train split, held-out
    split)`, built once per session (the classifier loaded, the held-out images embedded)."""
    from gan_lessons import pretrained
    from gan_lessons.data import load_mnist, scale_images
    from gan_lessons.evaluation import ImageMetrics

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GAN_LESSONS_DATA", str(real_data_dir))
        train, heldout = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    metrics = ImageMetrics(
        pretrained.load("mnist-classifier"),
        scale_images(heldout.images),
        scale_images(train.images),
    )
    return metrics, train, heldout


@pytest.fixture
def isolated_env(monkeypatch, tmp_path):
    """No GAN_LESSONS_DATA and an empty Keras cache: the loader sees nothing but what a test
    provides."""
    monkeypatch.delenv("GAN_LESSONS_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("GAN_LESSONS_OFFLINE", "1")
    return tmp_path


@pytest.fixture
def run_cli(capsys):
    """Run the `gan-lessons` command line in-process: `(exit code, stdout, stderr)`, argparse's own
    exits included."""
    from gan_lessons.cli import main

    def run(argv):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
