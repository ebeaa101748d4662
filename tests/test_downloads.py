"""Downloads, tested without the internet: a local HTTP server on 127.0.0.1 plays the mirror
(`GAN_LESSONS_MIRROR`), serving files built from the shared real data."""

import functools
import http.server
import io
import socket
import threading
import warnings

import numpy as np
import pytest

from gan_lessons import corpora as corpora_module
from gan_lessons import data as data_module
from gan_lessons.corpora import load_text
from gan_lessons.data import DataError, OfflineFallbackWarning, load_mnist, read_idx, sha256_of

GUTENBERG_HEADER = (
    "\ufeffThe Project Gutenberg eBook of Frankenstein; Or, The Modern Prometheus\r\n\r\n"
    "This ebook is for the use of anyone anywhere in the United States and most other parts of "
    "the world\r\n"
    "at no cost and with almost no restrictions whatsoever.\r\n\r\n"
    "Title: Frankenstein; Or, The Modern Prometheus\r\n\r\nAuthor: Mary Wollstonecraft "
    "Shelley\r\n\r\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK FRANKENSTEIN; OR, THE MODERN PROMETHEUS "
    "***\r\n\r\n\r\n"
)
GUTENBERG_LICENCE = (
    "\r\n\r\n\r\n*** END OF THE PROJECT GUTENBERG EBOOK FRANKENSTEIN; OR, THE MODERN PROMETHEUS "
    "***\r\n\r\n"
    "Updated editions will replace the previous one—the old editions will be renamed.\r\n\r\n"
    "START: FULL LICENSE\r\n\r\nTHE FULL PROJECT GUTENBERG LICENSE\r\n"
    + "Section 1. General Terms of Use.\r\n"
    * 50
)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A folder served over HTTP on 127.0.0.1, set as GAN_LESSONS_MIRROR; downloads allowed, no data
    folder, empty cache."""
    served = tmp_path / "mirror"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GAN_LESSONS_MIRROR", f"http://127.0.0.1:{server.server_address[1]}/")
    monkeypatch.delenv("GAN_LESSONS_OFFLINE", raising=False)
    monkeypatch.delenv("GAN_LESSONS_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    yield served
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def _cache(tmp_path):
    return tmp_path / "keras_home" / "datasets"


def _gutenberg_file(real_data_dir) -> bytes:
    "pg84.txt as Project Gutenberg serves it: header, the novel with CRLF line endings, licence."
    novel = (real_data_dir / "text" / "frankenstein.txt").read_bytes().decode("utf-8")
    novel = novel.replace("\r\n", "\n").replace("\n", "\r\n")
    return (GUTENBERG_HEADER + novel + GUTENBERG_LICENCE).encode("utf-8")


def test_mirror_urls_are_the_file_names_under_the_base(monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_MIRROR", "http://127.0.0.1:8000/files")
    assert (
        data_module.download_url(data_module.MNIST_NPZ_URL)
        == "http://127.0.0.1:8000/files/mnist.npz"
    )
    assert (
        data_module.download_url(corpora_module.TEXT_SOURCES["frankenstein"].url)
        == "http://127.0.0.1:8000/files/pg84.txt"
    )
    monkeypatch.delenv("GAN_LESSONS_MIRROR")
    assert data_module.download_url(data_module.MNIST_NPZ_URL) == data_module.MNIST_NPZ_URL


def test_gutenberg_download_is_the_same_corpus_as_the_shared_file(
    real_data_dir, mirror, tmp_path, monkeypatch
):
    (mirror / "pg84.txt").write_bytes(_gutenberg_file(real_data_dir))
    downloaded = load_text("frankenstein", verbose=False)
    assert (
        downloaded.source.startswith("downloaded from http://127.0.0.1:")
        and not downloaded.stand_in
    )
    cached = _cache(tmp_path) / "frankenstein.txt"
    assert cached.read_text(encoding="utf-8") == downloaded, "the cache keeps the cleaned corpus"
    (mirror / "pg84.txt").unlink()  # the second load reads the cache, not the mirror
    again = load_text("frankenstein", verbose=False)
    assert again == downloaded and again.source.startswith("the Keras cache")
    monkeypatch.setenv("GAN_LESSONS_DATA", str(real_data_dir))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "other_home"))
    shared = load_text("frankenstein", verbose=False)
    assert shared.source.startswith("$GAN_LESSONS_DATA")
    assert downloaded == shared, (
        "header, licence and CRLF removed: exactly the shared file's corpus"
    )


@pytest.mark.parametrize("damage", ["truncated", "another text"])
def test_a_wrong_or_truncated_text_is_refused_and_nothing_is_cached(
    real_data_dir, mirror, tmp_path, damage
):
    content = _gutenberg_file(real_data_dir)
    if damage == "truncated":
        content = content[
            : len(content) // 2
        ]  # the connection dropped half-way: no end marker, too short
    else:
        content = (GUTENBERG_HEADER + "Call me Ishmael. " * 25_000 + GUTENBERG_LICENCE).encode(
            "utf-8"
        )
    (mirror / "pg84.txt").write_bytes(content)
    with pytest.raises(DataError) as caught:
        load_text("frankenstein", fallback=False, verbose=False)
    message = str(caught.value)
    assert "download from http://127.0.0.1:" in message and "pg84.txt: failed" in message
    assert (
        "does not end with 'lost in darkness and distance'" in message
        if damage == "truncated"
        else "does not start with 'You will rejoice" in message
    )
    cache = _cache(tmp_path)
    assert not cache.exists() or not list(cache.iterdir()), (
        "no file and no partial file left in the cache"
    )


def test_a_wrong_mnist_download_is_refused_and_nothing_is_cached(mirror, tmp_path):
    (mirror / "mnist.npz").write_bytes(b"PK\x03\x04 not the archive")
    with pytest.raises(DataError) as caught:
        load_mnist(fallback=False, verbose=False)
    assert "mnist.npz: failed (DataError" in str(caught.value) and "expected 731c5ac6" in str(
        caught.value
    )
    cache = _cache(tmp_path)
    assert not cache.exists() or not list(cache.iterdir())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


def test_an_unreachable_mirror_falls_back_and_lists_every_place_tried(
    tmp_path, monkeypatch, capsys
):
    port = _closed_port()
    monkeypatch.setenv("GAN_LESSONS_MIRROR", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("GAN_LESSONS_OFFLINE", raising=False)
    monkeypatch.delenv("GAN_LESSONS_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        digits = load_mnist("train")
        text = load_text("frankenstein")
    messages = [str(w.message) for w in caught if issubclass(w.category, OfflineFallbackWarning)]
    assert digits.stand_in and text.stand_in and len(messages) == 2
    for message, name in zip(messages, ("mnist.npz", "pg84.txt")):
        for place in (
            "explicit path: none given",
            "$GAN_LESSONS_DATA: not set",
            "the Keras cache",
            f"download from http://127.0.0.1:{port}/{name}: failed (URLError",
        ):
            assert place in message, (place, message)
    assert "USING AN OFFLINE STAND-IN" in capsys.readouterr().err


def test_a_60000_image_source_keeps_the_one_split(real_data_dir, mirror, monkeypatch):
    """A fabricated source shaped like the official mnist.npz (60,000 training images + the real
    test split), served by the mirror with its digest patched in: held-out is test images
    8,000–9,999, disjoint from test images 0–7,999 that the shipped models trained on; training is
    the 60,000."""
    test_images = read_idx(real_data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    test_labels = read_idx(real_data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")
    rng = np.random.default_rng(0)
    train_images = rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=train_images,
        y_train=rng.integers(0, 10, 60_000).astype(np.uint8),
        x_test=test_images,
        y_test=test_labels,
    )
    (mirror / "mnist.npz").write_bytes(buffer.getvalue())
    monkeypatch.setattr(data_module, "MNIST_NPZ_SHA256", sha256_of(mirror / "mnist.npz"))
    train, heldout = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    assert len(train) == 60_000 and np.array_equal(train.images, train_images)
    assert "official MNIST training split (60,000 images)" in train.note
    assert (
        np.array_equal(heldout.images, test_images[8000:]) and "images 8,000–9,999" in heldout.note
    )
    seen_by_shipped_models = {image.tobytes() for image in test_images[:8000]}
    assert not any(image.tobytes() in seen_by_shipped_models for image in heldout.images)
    assert not {image.tobytes() for image in train.images} & {
        image.tobytes() for image in heldout.images
    }
