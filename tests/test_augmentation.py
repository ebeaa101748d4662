"""Lesson 15: generated data as training data — the pieces, split hygiene, the checkers, the
command line (`evaluate --cas`, the experiment by hand) and the saved comparisons."""

import json

import keras
import numpy as np
import pytest

from gan_lessons.augmentation import (
    CLASSIFIER_STEPS,
    check_disjoint,
    classic_augmentation,
    digits_of_clusters,
    few_label_accuracy,
    image_positions,
    labelled_samples,
    majority_labels,
    model_training_images,
    overlap,
    stratified_indices,
    train_classifier_on,
)
from gan_lessons.evaluation import accuracy
from gan_lessons.exercises import ExerciseError
from gan_lessons.exercises_generated import (
    check_cas,
    check_majority_labels,
    check_overlap,
    check_stratified_indices,
)

MNIST_MODELS = (
    *("mnist-classifier", "dcgan-mnist", "dcgan-mnist-deskewed", "cgan-mnist", "wgan-gp-mnist"),
    *("vae-mnist", "diffusion-mnist"),
)
HELD_OUT_WORDS = "images 8,000–9,999 of the official MNIST test split"


def test_stratified_indices_take_the_same_number_of_each_class_at_random():
    labels = np.repeat([0, 1, 2], [5, 40, 40])
    chosen = stratified_indices(labels, 5, seed=0)
    assert np.bincount(labels[chosen]).tolist() == [5, 5, 5] and len(set(chosen)) == 15
    assert np.array_equal(chosen, stratified_indices(labels, 5, seed=0))
    assert not np.array_equal(chosen, stratified_indices(labels, 5, seed=1))
    with pytest.raises(ValueError, match="class 0 has 5 images; 6 asked for"):
        stratified_indices(labels, 6)


def test_records_of_positions_become_ranges_and_overlaps_are_what_both_hold():
    record = {"collection": "MNIST test split", "start": 8000, "stop": 10000}
    assert image_positions(record) == ("MNIST test split", range(8000, 10000))
    assert overlap(("a", range(0, 10)), ("a", range(10, 20))) == range(10, 10)
    assert list(overlap(("a", range(0, 12)), ("a", range(10, 20)))) == [10, 11]
    assert len(overlap(("a", range(0, 12)), ("b", range(0, 12)))) == 0


def test_a_run_records_the_images_it_trained_on_and_an_unknown_name_has_none(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"trained_on": {
        "collection": "MNIST test split", "start": 0, "stop": 500}}))  # fmt: skip
    assert model_training_images(str(tmp_path)) == ("MNIST test split", range(0, 500))
    (tmp_path / "run.json").write_text(json.dumps({"data": "a folder of my pictures"}))
    assert model_training_images(str(tmp_path)) is None
    assert model_training_images("no-such-model") is None


def test_the_evaluation_split_is_disjoint_from_every_split_used_for_training(with_data):
    """The held-out digits every lesson-15 number is measured on share no image with what any
    shipped MNIST model or the real-image classifiers trained on (records and splits, read)."""
    from gan_lessons.data import load_mnist

    train, test = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    trained = {name: model_training_images(name) for name in MNIST_MODELS}
    trained["real images"] = image_positions(train.positions)
    assert all(images == ("MNIST test split", range(0, 8000)) for images in trained.values())
    assert image_positions(test.positions) == ("MNIST test split", range(8000, 10000))
    check_disjoint(image_positions(test.positions), trained)
    with pytest.raises(ValueError, match=r"cgan-mnist trained on 500 of them \(7,500–7,999\)"):
        check_disjoint(("MNIST test split", range(7500, 10000)), trained)


def test_the_saved_comparisons_hold_every_planned_row_and_the_held_out_test():
    "Every row of comparison_plan (three seeds a cell) and closer_plan is saved, none twice."
    from gan_lessons.augmentation import closer_plan, comparison_plan
    from gan_lessons.files import benchmark_rows

    rows = benchmark_rows("generated_data.jsonl")
    for plan in comparison_plan() + closer_plan():
        found = [row for row in rows if all(row.get(key) == value for key, value in plan.items())]
        assert len(found) == 1, (plan, len(found))
    for row in rows:
        assert 0 <= row["accuracy"] <= 1 and row["steps"] == CLASSIFIER_STEPS
        assert HELD_OUT_WORDS in row["test"]  # the note, written from the split's positions
        if "class_accuracy" in row:  # rows saved since it was kept
            assert len(row["class_accuracy"]) == 10 and row["test_images"]["start"] == 8000
    assert len(comparison_plan()) == 3 * (5 + 2 * 8)  # three seeds of each cell


def test_a_classifier_learns_from_the_source_it_is_given(with_data):
    """`extra_share` decides where batches come from: with the true labels only in `extra`, the
    classifier learns at share 1 and not at share 0."""
    from gan_lessons.data import load_mnist

    train, test = load_mnist("train", verbose=False), load_mnist("heldout", verbose=False)
    images, labels = train.images[:1000], train.labels[:1000]
    wrong = (labels + 1) % 10
    scores = [
        accuracy(
            train_classifier_on(images, wrong, steps=60, extra=(images, labels), extra_share=share),
            test.images,
            test.labels,
        )
        for share in (0.0, 1.0)
    ]
    assert scores[0] < 0.3 < 0.8 < scores[1], scores


def test_classic_augmentation_changes_images_only_while_training():
    images = np.full((4, 28, 28, 1), -1.0, "float32")
    images[:, 10:18, 12:16] = 1.0
    layers = classic_augmentation(seed=0)
    assert np.array_equal(np.asarray(layers(images, training=False)), images)
    moved = np.asarray(layers(images, training=True))
    assert moved.shape == images.shape and not np.allclose(moved, images)
    assert moved.min() >= -1.0001 and moved.max() <= 1.0001  # the background fills with -1


def test_labelled_samples_of_each_kind_of_model():
    from gan_lessons.pretrained import load

    images, labels = labelled_samples(load("cgan-mnist"), 30, seed=0)
    assert images.shape == (30, 28, 28, 1) and np.bincount(labels).tolist() == [3] * 10
    dcgan = load("dcgan-mnist")
    with pytest.raises(ValueError, match="needs cluster_digits"):
        labelled_samples(dcgan, 10)
    names = np.arange(50) % 10  # a digit for each of the 50 clusters
    codes = dcgan.get_layer("cluster_code")(keras.random.normal((40, 100), seed=3))[1]
    _, named = labelled_samples(dcgan, 40, seed=3, cluster_digits=names)
    assert np.array_equal(named, names[np.asarray(codes)])  # each sample's own cluster, named
    with pytest.raises(ValueError, match="draws no label"):
        labelled_samples(load("vae-mnist"), 10)


def test_a_flow_models_labels_are_the_classes_its_sampler_draws():
    from gan_lessons.pretrained import load

    model = load("diffusion-mnist")
    model.get_layer("flow_sampler").steps = 1  # the labels, not the images, are checked here
    _, labels = labelled_samples(model, 200, seed=0)
    code = model.get_layer("flow_sampler").code
    drawn = np.asarray(code(keras.random.normal((200, model.latent_dim), seed=0))[1])
    assert np.array_equal(labels, drawn) and set(labels) == set(range(10))


def test_clusters_named_with_true_labels_agree_with_the_instrument(with_data):
    """Named with 20 labelled images per digit, most dcgan-mnist samples get the digit the shipped
    classifier sees; named with shuffled labels, few do."""
    from gan_lessons.data import load_mnist
    from gan_lessons.evaluation import shipped_classifier
    from gan_lessons.pretrained import load

    train = load_mnist("train", verbose=False)
    dcgan, judge = load("dcgan-mnist"), shipped_classifier()
    chosen = stratified_indices(train.labels, 20, seed=0)
    shuffled = np.random.default_rng(0).permutation(train.labels[chosen])
    agreement = []
    for labels in (train.labels[chosen], shuffled):
        names = digits_of_clusters(dcgan, train.images[chosen], labels)
        images, named = labelled_samples(dcgan, 500, seed=1, cluster_digits=names)
        agreement.append(float(np.mean(judge.predict(images, verbose=0).argmax(-1) == named)))
    assert agreement[0] > 0.7 and agreement[0] > agreement[1] + 0.3, agreement
    assert majority_labels([[1, 1, 2], [0, 3, 3]]).tolist() == [1, 3]


def test_few_label_training_learns_something(with_data):
    score = few_label_accuracy(10, 0, augment=True, steps=120)
    assert 0.5 < score <= 1.0, score


def test_each_checker_catches_the_likely_slips():
    def stratified(labels, per_class, seed):
        return stratified_indices(labels, per_class, seed)

    assert check_stratified_indices(stratified)
    assert check_stratified_indices(lambda labels, per_class, seed: ...) is False
    slips = {
        "positions into labels, not the labels": lambda y, k, s: np.asarray(y)[
            stratified_indices(y, k, s)
        ],
        "not the total": lambda y, k, s: stratified_indices(y, k, s)[:k],
        "without replacement": lambda y, k, s: np.concatenate(
            [np.random.default_rng(s).choice(np.flatnonzero(y == c), k) for c in np.unique(y)]
        ),  # the likely slip: rng.choice without replace=False
        "at random with the seed": lambda y, k, s: np.concatenate(
            [np.flatnonzero(np.asarray(y) == c)[:k] for c in np.unique(y)]
        ),
        "raise ValueError": lambda y, k, s: np.concatenate(
            [
                np.random.default_rng(s).permutation(np.flatnonzero(np.asarray(y) == c))[:k]
                for c in np.unique(y)
            ]  # fmt: skip
        ),
    }
    for message, slip in slips.items():
        with pytest.raises(ExerciseError, match=message):
            check_stratified_indices(slip)

    assert check_overlap(overlap)
    with pytest.raises(ExerciseError, match="different sets of images"):
        check_overlap(lambda a, b: range(max(a[1].start, b[1].start), min(a[1].stop, b[1].stop)))
    with pytest.raises(ExerciseError, match="a range's stop is not in it"):
        check_overlap(
            lambda a, b: (
                range(0)
                if a[0] != b[0]
                else range(max(a[1].start, b[1].start), min(a[1].stop, b[1].stop) + 1)
            )
        )

    with pytest.raises(ExerciseError, match=r"expected 10 positions, got 9; missing \[8009\]"):
        check_overlap(
            lambda a, b: (
                range(0)
                if a[0] != b[0]
                else range(max(a[1].start, b[1].start), min(a[1].stop, b[1].stop) - 1)
            )
        )  # one element short: the message says which

    assert check_majority_labels(majority_labels)
    with pytest.raises(ExerciseError, match="each row's median; the majority"):
        check_majority_labels(lambda votes: np.median(votes, axis=1))
    with pytest.raises(ExerciseError, match="a tie between 4 and 8; give the smallest"):
        check_majority_labels(  # counts reversed: a tie goes to the largest label
            lambda votes: np.array([9 - np.bincount(9 - row).argmax() for row in votes])
        )
    with pytest.raises(ExerciseError, match="count each row, not each column"):
        check_majority_labels(lambda votes: np.array([np.bincount(c).argmax() for c in votes.T]))
    with pytest.raises(ExerciseError, match="take each row's majority"):
        check_majority_labels(
            lambda votes: np.full(len(votes), np.bincount(votes.ravel()).argmax())
        )


def test_evaluate_cas_refuses_what_it_cannot_measure(with_data, run_cli):
    code, _, err = run_cli(["evaluate", "vae-mnist", "--cas"])
    assert code == 2 and "draws no label" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(["evaluate", "char-lstm-frankenstein", "--cas"])
    assert code == 2 and "CAS applies to image generators" in err
    code, _, err = run_cli(["evaluate", "cgan-mnist", "--cas", "--data", "x.npz"])
    assert code == 2 and "takes no --data" in err


def test_evaluate_cas_trains_on_samples_alone_and_reports_beside_real_data(
    with_data, run_cli, monkeypatch
):
    """The wiring of `evaluate --cas` on a short budget: the CAS of the shipped cgan-mnist at its
    full budget is a number of its record, measured by benchmarks/shipped_models.py."""
    import functools

    from gan_lessons import augmentation

    short = functools.partial(augmentation.train_classifier_on, steps=30)
    monkeypatch.setattr(augmentation, "train_classifier_on", short)
    code, out, err = run_cli(["evaluate", "cgan-mnist", "--cas", "--n", "300", "--json"])
    assert code == 0, err
    report = json.loads(out)
    assert report["n"] == 300 and report["labels"] == "conditional"
    assert 0.3 < report["cas"] <= 1 and 0.3 < report["real_accuracy"] <= 1, report
    assert report["gap"] == round(report["real_accuracy"] - report["cas"], 4)
    assert HELD_OUT_WORDS in report["test"]


def test_the_same_experiment_by_hand(with_data, run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["sample", "cgan-mnist", "--n", "1000", "--out", "samples.npz"])
    assert code == 0 and "labels" in out, err
    code, _, err = run_cli(
        ["train", "classifier", "--data", "samples.npz", "--out", "run", "--epochs", "8"]
    )
    assert code == 0, err
    code, out, err = run_cli(["evaluate", "run", "--json"])
    report = json.loads(out)
    assert code == 0 and 0.5 < report["mnist_heldout_accuracy"] <= 1.0, report
    assert HELD_OUT_WORDS in report["mnist_data"]


def test_cas_refuses_a_model_trained_on_other_images():
    from types import SimpleNamespace

    from gan_lessons.augmentation import evaluate_cas
    from gan_lessons.errors import ArgumentError

    model = SimpleNamespace(kind="image-generator", training_data="my_pictures/")
    with pytest.raises(ArgumentError, match="runs/mine was trained on my_pictures/"):
        evaluate_cas(model, name="runs/mine")


def _cas_answer(train, sample, test_images, test_labels, n):
    images, labels = sample(n)
    return float(np.mean(train(images, labels).predict(test_images) == test_labels))


def test_the_cas_checker_refuses_scoring_on_the_samples_training_on_the_test_and_error_rates():
    assert check_cas(_cas_answer)

    def on_the_samples(train, sample, test_images, test_labels, n):
        images, labels = sample(n)
        return float(np.mean(train(images, labels).predict(images) == labels))

    def on_the_test_images(train, sample, test_images, test_labels, n):
        classifier = train(test_images, test_labels)
        return float(np.mean(classifier.predict(test_images) == test_labels))

    slips = {
        "scored on the samples the classifier learned from": on_the_samples,
        "trained on the test images": on_the_test_images,
        "expected the share right": lambda *args: 1 - _cas_answer(*args),
        r"asked sample\(\) for \[2000\]": lambda t, s, x, y, n: _cas_answer(t, s, x, y, 2000),
    }
    for message, slip in slips.items():
        with pytest.raises(ExerciseError, match=message):
            check_cas(slip)
