"""Your own images (page 99): `load_images` reads a folder, an .npz or IDX files as the models'
28×28 grey input; `gan-lessons train … --data` trains on them; bad input is one line, exit 2,
nothing written."""

import gzip
import json

import numpy as np
import pytest
from PIL import Image

from gan_lessons.data import DataError
from gan_lessons.images import SHAPES, load_images, write_shape_pictures


def write_idx(path, array: np.ndarray) -> None:
    "An IDX file of unsigned bytes, gzipped when `path` ends in .gz."
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        size.to_bytes(4, "big") for size in array.shape
    )
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_a_folder_of_class_folders_gives_grey_28x28_images_labels_and_notes(tmp_path):
    data = load_images(write_shape_pictures(tmp_path / "shapes", per_class=5), verbose=False)
    assert data.images.shape == (15, 28, 28) and data.images.dtype == np.uint8
    assert data.classes == SHAPES and data.labels.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    assert "15 colour images made grey" in data.note and "resized from 36×36" in data.note
    train, heldout = data.split("train"), data.split("heldout")
    assert len(train) == 12 and len(heldout) == 3
    assert set(map(bytes, train.images)).isdisjoint(map(bytes, heldout.images))
    np.testing.assert_array_equal(train.images, data.split("train").images)  # the same split


def test_a_flat_folder_has_no_labels_and_28x28_grey_pictures_are_kept_as_they_are(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    for index, image in enumerate(pixels):
        Image.fromarray(image).save(tmp_path / f"{index}.png")
    (tmp_path / "notes.txt").write_text("not a picture, and not named like one: ignored")
    data = load_images(tmp_path, verbose=False)
    assert data.labels is None and data.notes == []
    np.testing.assert_array_equal(data.images, pixels)


def test_npz_and_idx_files_with_labels(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(6, 32, 32, 3))  # floats in [0, 1], colour
    labels = np.array([7, 3, 7, 3, 7, 9])
    np.savez(tmp_path / "own.npz", images=images, labels=labels)
    data = load_images(tmp_path / "own.npz", verbose=False)
    assert data.images.shape == (6, 28, 28) and data.classes == ("3", "7", "9")
    assert data.labels.tolist() == [1, 0, 1, 0, 1, 2]
    grey = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "own-images-idx3-ubyte.gz", grey)
    write_idx(tmp_path / "own-labels-idx1-ubyte.gz", np.array([0, 1, 0, 1, 1]))
    data = load_images(tmp_path / "own-images-idx3-ubyte.gz", verbose=False)
    np.testing.assert_array_equal(data.images, grey)
    assert data.labels.tolist() == [0, 1, 0, 1, 1]


def _bad_inputs(root):
    "Each kind of bad input, made in `root`: `{name: (path, what the message must say)}`."
    (root / "empty").mkdir()
    (root / "broken").mkdir()
    (root / "broken" / "photo.png").write_bytes(b"\x89PNG but truncated")
    (root / "mixed" / "cats").mkdir(parents=True)
    Image.new("L", (28, 28)).save(root / "mixed" / "loose.png")
    Image.new("L", (28, 28)).save(root / "mixed" / "cats" / "cat.png")
    (root / "tiny").mkdir()
    Image.new("L", (4, 30)).save(root / "tiny" / "sliver.png")
    np.savez(root / "labels.npz", images=np.zeros((3, 28, 28), np.uint8), labels=[0, 1])
    np.savez(root / "floats.npz", images=np.full((3, 28, 28), 2.5))
    np.savez(root / "nan.npz", images=np.full((300, 28, 28), np.nan))
    np.savez(root / "no_images.npz", x=np.zeros((3, 28, 28), np.uint8))
    (root / "notes.txt").write_text("hello")
    return {
        "empty": (root / "empty", "no PNG or JPEG images"),
        "unreadable": (root / "broken", "photo.png: not a readable PNG or JPEG image"),
        "mixed": (root / "mixed", "expected one or the other"),
        "too small": (root / "tiny", "expected at least 8×8"),
        "labels": (root / "labels.npz", "expected 3 integers, one per image"),
        "pixels": (root / "floats.npz", "expected uint8 in [0, 255] or floats in [0, 1]"),
        "nan": (root / "nan.npz", "235,200 pixels are NaN or infinite, expected uint8"),
        "no images": (root / "no_images.npz", "expected an array named 'images'"),
        "not images": (root / "notes.txt", "expected a folder of PNG/JPEG images"),
        "missing": (root / "nowhere", "does not exist"),
    }


def test_bad_inputs_are_refused_saying_what_was_expected(tmp_path):
    for name, (path, message) in _bad_inputs(tmp_path).items():
        with pytest.raises(DataError, match=None) as refused:
            load_images(path, verbose=False)
        assert message in str(refused.value), (name, str(refused.value))


def test_the_command_refuses_bad_data_in_one_line_and_writes_nothing(tmp_path, run_cli):
    for name, (path, message) in _bad_inputs(tmp_path).items():
        out = tmp_path / f"run-{name.replace(' ', '-')}"
        code, _, err = run_cli(["train", "dcgan", "--data", str(path), "--out", str(out)])
        assert code == 2 and message in err and err.count("\n") == 1, (name, err)
        assert not out.exists(), name
    flat = tmp_path / "flat"
    flat.mkdir()
    for index in range(3):
        Image.new("L", (28, 28), 40 * index).save(flat / f"{index}.png")
    for labelled in ("cgan", "classifier"):
        code, _, err = run_cli(
            ["train", labelled, "--data", str(flat), "--out", str(tmp_path / "c")]
        )
        assert code == 2 and f"{labelled} needs labels and --data" in err, err
        assert not (tmp_path / "c").exists()


def test_pictures_too_alike_to_cluster_are_refused_in_one_line(tmp_path, run_cli):
    "A folder of one picture copied 100 times cannot make 50 clusters: one line, exit 2."
    same = tmp_path / "same"
    same.mkdir()
    for index in range(100):
        Image.new("L", (28, 28), 128).save(same / f"{index:03d}.png")
    code, _, err = run_cli(["train", "dcgan", "--data", str(same), "--out", str(tmp_path / "r")])
    assert code == 2 and err.count("\n") == 1, err
    assert "hold only 1 different pictures; 50 clusters need at least 50" in err, err
    assert not (tmp_path / "r").exists()  # refused before anything is written


@pytest.mark.slow  # trains a DCGAN on a folder of PNGs
def test_dcgan_trains_on_a_folder_of_pngs_and_evaluate_says_what_it_cannot_measure(
    tmp_path, run_cli
):
    folder = tmp_path / "pngs"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for index in range(80):  # bright discs at random places on black, 40×40 grey
        y, x = np.ogrid[:40, :40]
        centre = rng.uniform(12, 28, size=2)
        disc = (y - centre[0]) ** 2 + (x - centre[1]) ** 2 < rng.uniform(30, 90)
        Image.fromarray((disc * 255).astype(np.uint8)).save(folder / f"{index:03d}.png")
    run = tmp_path / "run"
    argv = ["train", "dcgan", "--data", str(folder), "--out", str(run), "--epochs", "2"]
    code, out, err = run_cli(argv)
    assert code == 0, err
    record = json.loads((run / "run.json").read_text())
    assert record["completed_epochs"] == 2 and record["training_images"] == 64
    assert "resized from 40×40 to 28×28" in record["data"] and "--data" in record["command"]
    assert record["settings"]["clusters"] == 50  # the default: clusters of these pictures
    clusters = json.loads((run / "clusters.json").read_text())
    assert clusters["features"] == "pixels"  # not handwriting: no deskewing by default
    code, _, err = run_cli(["sample", str(run), "--n", "8", "--out", str(tmp_path / "g.png")])
    assert code == 0 and Image.open(tmp_path / "g.png").size[0] > 28
    code, _, err = run_cli(["evaluate", str(run)])
    assert code == 2 and "not MNIST" in err


@pytest.mark.slow  # trains a classifier and a cgan on labelled pictures
def test_a_classifier_and_a_cgan_train_on_labelled_pictures_and_evaluate_measures_with_it(
    tmp_path, run_cli
):
    shapes = write_shape_pictures(tmp_path / "shapes", per_class=150)
    out = {name: str(tmp_path / name) for name in ("classifier", "cgan")}
    code, text, err = run_cli(
        ["train", "classifier", "--data", str(shapes), "--out", out["classifier"], "--epochs", "15"]
    )
    assert code == 0 and "held-out accuracy" in text, err
    record = json.loads((tmp_path / "classifier" / "run.json").read_text())
    assert record["classes"] == 3 and record["heldout_accuracy"] > 0.8  # 90 held-out pictures
    code, _, err = run_cli(["train", "cgan", "--data", str(shapes), "--out", out["cgan"],
                            "--epochs", "1"])  # fmt: skip
    assert code == 0, err
    base = ["evaluate", out["cgan"], "--n", "60"]
    code, _, err = run_cli(base + ["--data", str(shapes)])
    assert code == 2 and "--data needs --classifier" in err
    code, _, err = run_cli(base + ["--data", str(shapes), "--classifier", "mnist-classifier"])
    assert code == 2 and "tells 10 classes apart" in err and "has 3" in err
    code, text, err = run_cli(base + ["--data", str(shapes), "--classifier", out["classifier"],
                                      "--json"])  # fmt: skip
    assert code == 0, err
    report = json.loads(text)
    assert len(report["class_fractions"]) == 3 and 1 <= report["classifier_score"] <= 3
    assert report["classifier_score_real_floor"] > 2.0 and 0 <= report["label_accuracy"] <= 1
    code, text, err = run_cli(["evaluate", out["classifier"], "--json"])
    assert code == 0 and json.loads(text)["heldout_accuracy"] > 0.8, err
