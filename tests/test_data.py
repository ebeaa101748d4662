import shutil
import warnings

import numpy as np
import pytest

from gan_lessons.checkpoints import download_file
from gan_lessons.corpora import load_text
from gan_lessons.data import (
    MNIST_IDX_FILES,
    DataError,
    OfflineFallbackWarning,
    load_mnist,
    make_image_dataset,
    read_idx,
    scale_images,
    sha256_of,
)

# Class counts of the official MNIST test split (shared/data/README.md).
TEST_SPLIT_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def copy_mnist_test_split(real_data_dir, destination):
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(real_data_dir / "mnist" / name, destination / name)
    return destination


def test_real_test_split_is_divided_deterministically(real_data_dir, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_DATA", str(real_data_dir))
    train, heldout = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    assert train.images.shape == (8000, 28, 28) and heldout.images.shape == (2000, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.uint8
    counts = np.bincount(train.labels, minlength=10) + np.bincount(heldout.labels, minlength=10)
    assert counts.tolist() == TEST_SPLIT_CLASS_COUNTS
    assert (
        "images 0–7,999 of the official MNIST test split" in train.note
        and "GAN_LESSONS_DATA" in train.source
    )
    assert "images 8,000–9,999" in heldout.note and not train.stand_in
    raw = read_idx(real_data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    assert np.array_equal(train.images, raw[:8000]) and np.array_equal(heldout.images, raw[8000:])


def test_explicit_path_comes_before_the_data_folder(real_data_dir, isolated_env, monkeypatch):
    folder = copy_mnist_test_split(real_data_dir, isolated_env / "mine")
    monkeypatch.setenv("GAN_LESSONS_DATA", str(isolated_env / "does-not-matter"))
    data = load_mnist("heldout", path=folder, verbose=False)
    assert data.source.startswith("the path you gave") and len(data) == 2000


def test_wrong_hash_is_rejected_with_file_and_expected_digest(real_data_dir, isolated_env):
    folder = copy_mnist_test_split(real_data_dir, isolated_env / "corrupt")
    images = folder / "t10k-images-idx3-ubyte.gz"
    content = bytearray(images.read_bytes())
    content[-100] ^= 0xFF  # one flipped byte
    images.write_bytes(bytes(content))
    with pytest.raises(DataError) as caught:
        load_mnist(path=folder, verbose=False)
    message = str(caught.value)
    assert (
        str(images) in message
        and MNIST_IDX_FILES[images.name] in message
        and sha256_of(images) in message
    )


def test_corrupt_file_in_data_folder_is_an_error_not_a_silent_fallback(
    real_data_dir, isolated_env, monkeypatch
):
    folder = copy_mnist_test_split(real_data_dir, isolated_env / "data" / "mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"truncated")
    monkeypatch.setenv("GAN_LESSONS_DATA", str(folder.parent))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz.*expected f7ae60f9"):
        load_mnist(verbose=False)


def test_missing_partner_file_is_named(real_data_dir, isolated_env):
    folder = copy_mnist_test_split(real_data_dir, isolated_env / "half")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz is missing"):
        load_mnist(path=folder, verbose=False)


@pytest.mark.parametrize(
    "images, labels, expected",
    [
        (
            np.zeros((5, 28, 27), np.uint8),
            np.zeros(5, np.uint8),
            r"shape \(5, 28, 27\), expected \(n, 28, 28\)",
        ),
        (
            np.zeros((5, 784), np.uint8),
            np.zeros(5, np.uint8),
            r"shape \(5, 784\), expected \(n, 28, 28\)",
        ),
        (
            np.ones((5, 28, 28), np.float32),
            np.zeros(5, np.uint8),
            r"dtype float32 .* expected uint8 pixels in \[0, 255\]",
        ),
        (
            np.full((5, 28, 28), 300, np.int32),
            np.zeros(5, np.uint8),
            r"values in \[300, 300\], expected uint8",
        ),
        (
            np.zeros((5, 28, 28), np.uint8),
            np.arange(6, 11),
            r"labels must be integers in 0..9.*\[6, 10\]",
        ),
        (
            np.zeros((5, 28, 28), np.uint8),
            np.zeros(4, np.uint8),
            r"labels have shape \(4,\), expected \(5,\)",
        ),
    ],
)
def test_arrays_with_wrong_shape_dtype_or_range_are_rejected(
    isolated_env, images, labels, expected
):
    path = isolated_env / "bad.npz"
    np.savez(path, x_test=images, y_test=labels)
    with pytest.raises(DataError, match=expected) as caught:
        load_mnist(path=path, verbose=False)
    assert str(path) in str(caught.value)


def test_idx_header_must_match_the_data(isolated_env):
    path = isolated_env / "short-images-idx3-ubyte"
    path.write_bytes(
        b"\x00\x00\x08\x03" + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(100)
    )
    with pytest.raises(DataError, match=r"header says shape \(10, 28, 28\).*holds 100 bytes"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x0d\x01" + bytes(8))
    with pytest.raises(DataError, match="not an IDX file of unsigned bytes"):
        read_idx(path)


def test_corrupt_keras_cache_is_rejected(isolated_env):
    cache = isolated_env / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    np.savez(
        cache / "mnist.npz", x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.zeros(5, np.uint8)
    )
    with pytest.raises(DataError, match="mnist.npz: sha256 is .* expected 731c5ac6"):
        load_mnist(verbose=False)


def test_nothing_anywhere_lists_every_place_tried(isolated_env):
    with pytest.raises(DataError) as caught:
        load_mnist(fallback=False, verbose=False)
    message = str(caught.value)
    for fragment in (
        "explicit path: none given",
        "$GAN_LESSONS_DATA: not set",
        "the Keras cache",
        "download: not attempted",
    ):
        assert fragment in message


def test_offline_fallback_is_announced_loudly(isolated_env, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train = load_mnist("train")
        heldout = load_mnist("heldout", verbose=False)
    assert any(issubclass(w.category, OfflineFallbackWarning) for w in caught)
    assert "USING AN OFFLINE STAND-IN" in capsys.readouterr().err
    assert "scikit-learn" in train.source and "not MNIST" in train.note
    assert train.images.shape[1:] == (28, 28) and train.images.dtype == np.uint8
    assert len(train) + len(heldout) == 1797 and set(np.unique(train.labels)) == set(range(10))


def test_download_is_verified_and_atomic(isolated_env):
    source = isolated_env / "remote.bin"
    source.write_bytes(b"payload")
    target = isolated_env / "cache" / "file.bin"
    with pytest.raises(DataError, match="expected 0000"):
        download_file(source.as_uri(), target, "0" * 64)
    assert not target.exists() and not list(target.parent.glob("*.partial")), (
        "a failed download leaves nothing behind"
    )
    download_file(source.as_uri(), target, sha256_of(source))
    assert target.read_bytes() == b"payload"


def test_scale_images_maps_to_minus_one_one():
    scaled = scale_images(np.array([[[0, 255, 128]]], np.uint8))
    assert scaled.shape == (1, 1, 3, 1) and scaled.dtype == np.float32
    np.testing.assert_allclose(scaled.ravel(), [-1.0, 1.0, 0.5 / 127.5], rtol=1e-6)
    with pytest.raises(DataError, match="expects uint8"):
        scale_images(np.zeros((1, 28, 28), np.float32))


def test_dataset_keeps_the_partial_last_batch_unless_dropped():
    images = np.random.default_rng(0).integers(0, 256, (1000, 28, 28), dtype=np.uint8)
    sizes = [int(batch.shape[0]) for batch in make_image_dataset(images, batch_size=128)]
    dropped = [
        int(batch.shape[0])
        for batch in make_image_dataset(images, batch_size=128, drop_remainder=True)
    ]
    assert sizes == [128] * 7 + [104] and dropped == [128] * 7
    batch = next(iter(make_image_dataset(images, batch_size=16)))
    assert (
        batch.shape == (16, 28, 28, 1)
        and float(batch.numpy().min()) >= -1
        and float(batch.numpy().max()) <= 1
    )


def test_dataset_order_depends_only_on_the_seed():
    images = np.zeros((300, 28, 28), np.uint8)
    labels = np.arange(300) % 10

    def order(seed):
        return np.concatenate(
            [
                lab.numpy()
                for _, lab in make_image_dataset(images, np.arange(300), batch_size=64, seed=seed)
            ]
        )

    assert np.array_equal(order(3), order(3)) and not np.array_equal(order(3), order(4))
    assert sorted(order(3).tolist()) == list(range(300)), "every image exactly once per epoch"
    with pytest.raises(DataError, match="uint8 images or float32 images in \\[-1, 1\\]"):
        make_image_dataset(images.astype(np.float64), labels)


def test_frankenstein_is_loaded_and_verified(real_data_dir, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_DATA", str(real_data_dir))
    text = load_text("frankenstein", verbose=False)
    # 421,103 bytes with Windows line endings; the loader normalizes them to "\n" and trims the
    # blank lines around
    raw = (real_data_dir / "text" / "frankenstein.txt").read_bytes().decode("utf-8")
    assert text == raw.replace("\r\n", "\n").strip() and len(text) == 421_103 - 1_558 - 2
    assert (
        "\r" not in text
        and "Frankenstein" in text
        and not text.stand_in
        and "GAN_LESSONS_DATA" in text.source
    )


def test_text_loader_errors(isolated_env):
    folder = isolated_env / "texts"
    folder.mkdir()
    (folder / "frankenstein.txt").write_text("not the novel")
    with pytest.raises(
        DataError,
        match="frankenstein.txt: not the text 'frankenstein': 13 characters, expected "
        "380,000 to 470,000; it does not start with 'You will rejoice",
    ):
        load_text("frankenstein", path=folder, verbose=False)
    (folder / "tinyshakespeare.txt").write_text("not the play")
    with pytest.raises(DataError, match="tinyshakespeare.txt: sha256 .* expected 86c4e6aa"):
        load_text("tinyshakespeare", path=folder, verbose=False)
    with pytest.raises(ValueError, match="unknown text 'moby'"):
        load_text("moby")
    (folder / "empty.txt").write_text("  \n")
    with pytest.raises(DataError, match="empty"):
        load_text(None, path=folder / "empty.txt")
    with pytest.raises(
        DataError, match="(?s)tinyshakespeare.txt.*Places tried.*GAN_LESSONS_DATA: not set"
    ):
        load_text("tinyshakespeare", fallback=False, verbose=False)


def test_offline_text_stand_in_is_announced_loudly(isolated_env, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = load_text("frankenstein")
    assert any(issubclass(w.category, OfflineFallbackWarning) for w in caught)
    err = capsys.readouterr().err
    assert (
        "FRANKENSTEIN WAS NOT FOUND — USING AN OFFLINE STAND-IN" in err
        and "GAN_LESSONS_DATA: not set" in err
    )
    assert (
        text.stand_in and "pydoc_data" in text.source and len(text) > 300_000 and "\r" not in text
    )
