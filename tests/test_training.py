import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.checkpoints import NonFiniteLossError
from gan_lessons.discriminator import build_discriminator
from gan_lessons.generator import build_generator
from gan_lessons.losses import (
    discriminator_loss,
    generator_loss,
    hinge_discriminator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from gan_lessons.recipes import WeightAverage
from gan_lessons.setup import seed_everything
from gan_lessons.training import GAN, EpochSeededImages, fit_gan, make_train_step, train_step

SMALL_G, SMALL_D = dict(channels=(32, 16, 8)), dict(filters=(8, 16))


def log_sigmoid(u):
    return -np.logaddexp(0, -u)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.25])
def test_losses_match_their_formulas(smoothing):
    rng = np.random.default_rng(0)
    real, fake = (
        rng.normal(0, 3, (32, 1)).astype(np.float32),
        rng.normal(0, 3, (48, 1)).astype(np.float32),
    )
    expected_d = -np.mean(
        (1 - smoothing) * log_sigmoid(real) + smoothing * log_sigmoid(-real)
    ) - np.mean(log_sigmoid(-fake))
    np.testing.assert_allclose(
        float(discriminator_loss(real, fake, smoothing)), expected_d, rtol=1e-5
    )
    np.testing.assert_allclose(float(generator_loss(fake)), -np.mean(log_sigmoid(fake)), rtol=1e-5)
    np.testing.assert_allclose(
        float(generator_loss(fake, "minimax")), np.mean(log_sigmoid(-fake)), rtol=1e-5
    )
    np.testing.assert_allclose(
        float(wasserstein_critic_loss(real, fake)), fake.mean() - real.mean(), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(float(wasserstein_generator_loss(fake)), -fake.mean(), rtol=1e-5)
    np.testing.assert_allclose(
        float(hinge_discriminator_loss(real, fake)),
        np.maximum(0, 1 - real).mean() + np.maximum(0, 1 + fake).mean(),
        rtol=1e-5,
    )


def test_losses_reject_bad_options_and_stay_finite():
    with pytest.raises(ValueError, match="label_smoothing"):
        discriminator_loss(tf.zeros((1, 1)), tf.zeros((1, 1)), 0.5)
    with pytest.raises(ValueError, match="kind must be one of"):
        generator_loss(tf.zeros((1, 1)), "wgan")
    huge = tf.constant([[1e4], [-1e4]])
    assert np.isfinite(float(discriminator_loss(huge, huge))) and float(
        generator_loss(huge)
    ) == pytest.approx(5e3)


def _models():
    seed_everything(0)
    return build_generator(**SMALL_G), build_discriminator(**SMALL_D)


def _snapshot(model):
    return [v.numpy().copy() for v in model.trainable_variables]


def _moved(before, model):
    return [
        not np.array_equal(old, new.numpy()) for old, new in zip(before, model.trainable_variables)
    ]


def test_one_step_changes_every_weight_of_both_networks():
    generator, discriminator = _models()
    step = make_train_step(
        generator, discriminator, keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    )
    g_before, d_before = _snapshot(generator), _snapshot(discriminator)
    step(tf.random.uniform((16, 28, 28, 1), -1, 1))
    assert all(_moved(g_before, generator)) and all(_moved(d_before, discriminator))


@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
def test_each_update_touches_only_its_own_network(frozen):
    generator, discriminator = _models()
    rates = {"generator": 1e-3, "discriminator": 1e-3, frozen: 0.0}
    g_optimizer, d_optimizer = (
        keras.optimizers.SGD(rates["generator"]),
        keras.optimizers.SGD(rates["discriminator"]),
    )
    g_before, d_before = _snapshot(generator), _snapshot(discriminator)
    tf.function(train_step)(
        generator, discriminator, g_optimizer, d_optimizer, tf.random.uniform((8, 28, 28, 1), -1, 1)
    )
    moved = {
        "generator": any(_moved(g_before, generator)),
        "discriminator": any(_moved(d_before, discriminator)),
    }
    other = "discriminator" if frozen == "generator" else "generator"
    assert moved == {frozen: False, other: True}, "an update leaked into the other network"
    assert len(d_optimizer.variables) > 0 and {
        id(v) for v in generator.trainable_variables
    }.isdisjoint({id(v) for v in discriminator.trainable_variables})


@pytest.mark.slow  # trains with a partial last batch, in the loop and in fit()
def test_partial_last_batch_in_the_loop_and_in_fit():
    generator, discriminator = _models()
    step = make_train_step(
        generator, discriminator, keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    )
    for size in (64, 36):
        logs = step(tf.random.uniform((size, 28, 28, 1), -1, 1))
        assert np.isfinite(float(logs["d_loss"]))
    gan = GAN(generator, discriminator, seed=1)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    data = EpochSeededImages(
        np.random.default_rng(0).integers(0, 256, (100, 28, 28), dtype=np.uint8), batch_size=64
    )
    assert data.steps_per_epoch == 2
    history = gan.fit(data.dataset, epochs=1, verbose=0, shuffle=False, callbacks=[data.callback])
    assert set(history.history) >= {
        "loss",
        "d_loss",
        "g_loss",
        "d_real_accuracy",
        "d_fake_accuracy",
    }


def test_epoch_order_depends_only_on_seed_and_epoch():
    images = np.arange(200, dtype=np.uint8).reshape(200, 1, 1).repeat(28, 1).repeat(28, 2)

    def order(epoch, seed=0):
        data = EpochSeededImages(images, batch_size=64, seed=seed)
        data.epoch.assign(epoch)
        return np.concatenate(
            [np.rint(batch.numpy()[:, 0, 0, 0] * 127.5 + 127.5) for batch in data.dataset]
        )

    assert np.array_equal(order(3), order(3)) and not np.array_equal(order(3), order(4))
    assert not np.array_equal(order(3), order(3, seed=1)) and sorted(order(2)) == list(range(200))


class AtStep(keras.callbacks.Callback):
    "Runs `action(model)` just before the given (1-based) training step."

    def __init__(self, step, action):
        super().__init__()
        self.step, self.action, self.seen = step, action, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            self.action(self.model)


def crash_before(step):
    def interrupt(model):
        raise KeyboardInterrupt(f"simulated interruption before step {step}")

    return AtStep(step, interrupt)


def poison_before(step):
    "A NaN discriminator weight before the step, as an exploding update would leave."

    def poison(model):
        kernel = model.discriminator.get_layer("logit").kernel
        kernel.assign(tf.fill(kernel.shape, float("nan")))

    return AtStep(step, poison)


def _tiny_gan(*options):
    seed_everything(11)
    # with a weight average, so resuming must restore it (and its update counter) as well
    gan = GAN(
        build_generator(**SMALL_G),
        build_discriminator(**SMALL_D),
        seed=11,
        options=[WeightAverage(0.9), *options],
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    return gan


def _weights(model):
    return np.concatenate([v.numpy().ravel().astype(np.float64) for v in model.weights])


@pytest.fixture(scope="module")
def resume_images():
    return np.random.default_rng(5).integers(
        0, 256, (192, 28, 28), dtype=np.uint8
    )  # 3 steps of 64 per epoch


@pytest.fixture(scope="module")
def uninterrupted(resume_images, tmp_path_factory):
    gan = _tiny_gan()
    fit_gan(gan, resume_images, epochs=3, out_dir=tmp_path_factory.mktemp("straight"), verbose=0)
    return _weights(gan)


@pytest.mark.slow  # crashes a training run at three steps and resumes each
@pytest.mark.parametrize(
    "crash_step", [3, 4, 6]
)  # before the last step of epoch 1, at the start of epoch 2, mid epoch 2
def test_interrupted_and_resumed_run_ends_with_identical_weights(
    crash_step, resume_images, uninterrupted, tmp_path
):
    with pytest.raises(KeyboardInterrupt):
        fit_gan(
            _tiny_gan(),
            resume_images,
            epochs=3,
            out_dir=tmp_path,
            verbose=0,
            callbacks=[crash_before(crash_step)],
        )
    resumed = _tiny_gan()
    fit_gan(resumed, resume_images, epochs=3, out_dir=tmp_path, verbose=0)
    assert np.array_equal(_weights(resumed), uninterrupted)


@pytest.mark.slow  # trains, then interrupts a checkpoint save half-way
def test_a_save_interrupted_half_way_leaves_the_previous_checkpoint_whole(
    resume_images, uninterrupted, tmp_path, monkeypatch
):
    real_save = GAN.save_weights
    calls = []

    def save_then_die_half_way(self, filepath, **kwargs):
        calls.append(filepath)
        if len(calls) == 3:  # epoch 2's backup: write part of a file, then the process "dies"
            with open(filepath, "wb") as file:
                file.write(b"\x89HDF\r\n half a file")
            raise KeyboardInterrupt("killed while saving")
        return real_save(self, filepath, **kwargs)

    monkeypatch.setattr(GAN, "save_weights", save_then_die_half_way)
    with pytest.raises(KeyboardInterrupt):
        fit_gan(_tiny_gan(), resume_images, epochs=3, out_dir=tmp_path, verbose=0)
    monkeypatch.undo()
    assert not list(tmp_path.rglob("*partial*")), "no half-written file may be left behind"
    resumed = _tiny_gan()
    fit_gan(resumed, resume_images, epochs=3, out_dir=tmp_path, verbose=0)
    assert np.array_equal(_weights(resumed), uninterrupted)


@pytest.mark.slow  # trains and resumes past a stale side file
def test_the_epoch_inside_the_weights_file_wins_over_a_stale_side_file(
    resume_images, uninterrupted, tmp_path
):
    fit_gan(_tiny_gan(), resume_images, epochs=2, out_dir=tmp_path, verbose=0)
    # a crash between the two renames of a save would leave the side file one epoch behind
    (tmp_path / "backup" / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    resumed = _tiny_gan()
    fit_gan(resumed, resume_images, epochs=3, out_dir=tmp_path, verbose=0)
    assert np.array_equal(_weights(resumed), uninterrupted)


def test_weight_average_lags_the_generator_and_is_what_the_gan_samples_from(
    resume_images, tmp_path
):
    gan = _tiny_gan()
    start = [w.numpy().copy() for w in gan.ema_generator.weights]
    fit_gan(gan, resume_images, epochs=1, out_dir=tmp_path, verbose=0)
    assert all(
        not np.array_equal(a, w.numpy())
        for a, w in zip(start, gan.ema_generator.trainable_weights[:1])
    )
    assert any(
        not np.array_equal(a.numpy(), w.numpy())
        for a, w in zip(gan.ema_generator.weights, gan.generator.weights)
    )
    noise = tf.random.normal((4, gan.latent_dim))
    np.testing.assert_array_equal(
        gan(noise).numpy(), gan.ema_generator(noise, training=False).numpy()
    )
    with pytest.raises(ValueError, match="decay must be in"):
        WeightAverage(1.5)


@pytest.mark.slow  # trains until the loss is no longer finite
def test_non_finite_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(
    resume_images, tmp_path
):
    gan = _tiny_gan()
    with pytest.raises(
        NonFiniteLossError, match=r"(?s)NaN or Inf.*last good weights.*gan\.weights\.h5"
    ) as caught:
        fit_gan(
            gan, resume_images, epochs=3, out_dir=tmp_path, verbose=0, callbacks=[poison_before(5)]
        )  # in epoch 2
    assert str(tmp_path) in str(caught.value)
    saved = _tiny_gan()
    saved.load_weights(tmp_path / "gan.weights.h5")
    assert np.isfinite(_weights(saved)).all(), (
        "the checkpoint on disk must hold the last finite weights"
    )
    backup = _tiny_gan()
    backup.load_weights(tmp_path / "backup" / "latest.weights.h5")
    assert np.array_equal(_weights(saved), _weights(backup))
    reference = _tiny_gan()
    fit_gan(reference, resume_images, epochs=1, out_dir=tmp_path / "one_epoch", verbose=0)
    assert np.array_equal(_weights(saved), _weights(reference)), (
        "the kept weights are those at the end of epoch 1"
    )


def test_keras3_frozen_discriminator_never_learns_with_train_on_batch():
    generator, discriminator = _models()
    discriminator.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    discriminator.trainable = False
    before = [w.copy() for w in discriminator.get_weights()]
    discriminator.train_on_batch(tf.random.uniform((8, 28, 28, 1), -1, 1), tf.ones((8, 1)))
    assert all(np.array_equal(a, b) for a, b in zip(before, discriminator.get_weights()))


def test_the_minimal_step_and_the_fit_step_agree(monkeypatch):
    """GAN.update_networks is train_step with its parts behind hooks: with no options and the same
    noise, one step of each moves both networks to the same weights."""
    updates = []
    for use_fit in (False, True):
        generator, discriminator = _models()
        real = tf.random.uniform((8, 28, 28, 1), -1, 1, seed=3)
        gan = GAN(generator, discriminator, seed=5)
        gan.compile(d_optimizer=keras.optimizers.SGD(1e-2), g_optimizer=keras.optimizers.SGD(1e-2))
        if use_fit:
            gan.train_step(real)
        else:  # the minimal step draws with tf.random.normal: give it the GAN's first draw
            noise = keras.random.normal((8, 100), seed=keras.random.SeedGenerator(5))
            with monkeypatch.context() as patch:
                patch.setattr(
                    tf.random, "normal", lambda shape, *args, noise=noise, **kwargs: noise
                )
                train_step(generator, discriminator, gan.g_optimizer, gan.d_optimizer, real)
        updates.append([w.numpy() for w in generator.weights + discriminator.weights])
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(*updates))
