import numpy as np
import pytest

from gan_lessons.evaluation import (
    class_fractions,
    classifier_score,
    frechet_distance,
    gaussian_statistics,
    nearest_neighbour_distances,
)


def test_frechet_distance_of_a_set_with_itself_is_zero_and_it_is_symmetric():
    rng = np.random.default_rng(0)
    a = gaussian_statistics(rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6)))
    b = gaussian_statistics(rng.normal(1.0, 2.0, size=(400, 6)))
    assert frechet_distance(*a, *a) == pytest.approx(0, abs=1e-8)
    assert frechet_distance(*a, *b) == pytest.approx(frechet_distance(*b, *a), rel=1e-8)
    assert frechet_distance(*a, *b) > 1


def test_frechet_distance_matches_the_closed_form_for_known_gaussians():
    rng = np.random.default_rng(1)
    mean_a, mean_b = rng.normal(size=7), rng.normal(size=7)
    std_a, std_b = rng.uniform(0.2, 3, 7), rng.uniform(0.2, 3, 7)
    rotation, _ = np.linalg.qr(rng.normal(size=(7, 7)))  # a shared rotation keeps the closed form
    cov_a, cov_b = (
        rotation @ np.diag(std_a**2) @ rotation.T,
        rotation @ np.diag(std_b**2) @ rotation.T,
    )
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((std_a - std_b) ** 2)
    assert frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected, rel=1e-8)


def test_classifier_score_and_class_fractions():
    confident_all_classes = np.eye(10)[np.arange(1000) % 10]
    assert classifier_score(confident_all_classes) == pytest.approx(10, rel=1e-6)
    assert classifier_score(np.eye(10)[np.zeros(100, int)]) == pytest.approx(
        1, rel=1e-6
    )  # collapsed
    assert classifier_score(np.full((100, 10), 0.1)) == pytest.approx(1, rel=1e-6)  # unsure
    np.testing.assert_allclose(
        class_fractions(np.eye(10)[[1, 1, 2, 9]]), [0, 0.5, 0.25, 0, 0, 0, 0, 0, 0, 0.25]
    )
    with pytest.raises(ValueError, match="n >= 2"):
        gaussian_statistics(np.zeros((1, 3)))


def test_nearest_neighbour_distances():
    rng = np.random.default_rng(2)
    reference = rng.uniform(-1, 1, (50, 28, 28, 1)).astype(np.float32)
    copies = nearest_neighbour_distances(reference[:10], reference)
    shifted = nearest_neighbour_distances(reference[:10] + 0.1, reference)
    assert np.allclose(copies, 0, atol=1e-4) and np.allclose(shifted, 0.1 * 28, atol=1e-4)


def test_pairwise_distances_see_a_near_copy_float32_would_lose():
    "A pixel moved by 1e-4 in 784: float32 would round |a|² − 2a·b + |b|² to 0 or to noise."
    from gan_lessons.evaluation import pairwise_distances

    image = np.random.default_rng(0).uniform(-1, 1, (1, 784)).astype(np.float32)
    near = image.copy()
    near[0, 0] += 1e-4
    assert abs(pairwise_distances(image, near)[0, 0] - 1e-4) < 1e-6
    wide = pairwise_distances(image, np.zeros((1, 784)))[0, 0]
    assert np.isclose(wide, np.linalg.norm(image.astype(np.float64)))
