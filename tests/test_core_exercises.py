"""The four write-it-yourself exercises: each checker accepts the lessons' own code and names at
least three typical mistakes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lessons.exercises import ExerciseError
from gan_lessons.exercises_beyond import check_sample_with_temperature
from gan_lessons.exercises_training import check_train_step
from gan_lessons.exercises_variations import check_conditional_discriminator, check_critic_step
from gan_lessons.losses import discriminator_loss, generator_loss, wasserstein_critic_loss
from gan_lessons.training import train_step
from gan_lessons.wasserstein import gradient_penalty


def _step(
    noise_rows=None, g_loss_kind="non_saturating", shared_optimizer=False, training=True,
    swapped_labels=False, generator_on_d_loss=False,
):  # fmt: skip
    "The lesson-05 step, with one mistake switched on."

    def step(generator, discriminator, g_optimizer, d_optimizer, real_images, latent_dim=100):
        rows = noise_rows or tf.shape(real_images)[0]
        noise = tf.random.normal((rows, latent_dim))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=training)
            real_logits = discriminator(real_images, training=training)
            fake_logits = discriminator(fake, training=training)
            if swapped_labels:  # real → 0, fake → 1
                d_loss = discriminator_loss(fake_logits, real_logits)
            else:
                d_loss = discriminator_loss(real_logits, fake_logits)
            g_loss = generator_loss(fake_logits, g_loss_kind)
            g_objective = d_loss if generator_on_d_loss else g_loss
        d_optimizer_used = g_optimizer if shared_optimizer else d_optimizer
        for tape, loss, network, optimizer in (
            (d_tape, d_loss, discriminator, d_optimizer_used),
            (g_tape, g_objective, generator, g_optimizer),
        ):
            gradients = tape.gradient(loss, network.trainable_variables)
            optimizer.apply_gradients(zip(gradients, network.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}

    return step


def test_the_train_step_checker_accepts_the_lesson_and_names_mistakes():
    assert check_train_step(train_step) is True
    mistakes = {
        "minimax": _step(g_loss_kind="minimax"),
        "only its own network": _step(shared_optimizer=True),
        "training=True": _step(training=False),
        "size the noise from the batch": _step(noise_rows=6),
        "tells real from fake worse": _step(swapped_labels=True),
        "rates its fakes lower": _step(generator_on_d_loss=True),
    }
    for message, wrong in mistakes.items():
        with pytest.raises(ExerciseError, match=message):
            check_train_step(wrong)
    assert check_train_step(lambda *args: None) is False  # not attempted yet


def _conditional_discriminator(use_label=True, sigmoid=False, one_hot=False):
    def build(num_classes):
        images = keras.Input((28, 28, 1))
        labels = keras.Input(
            (num_classes,) if one_hot else (), dtype="float32" if one_hot else "int32"
        )
        features = keras.layers.Dense(16)(keras.layers.Flatten()(images))
        if use_label:
            embedded = (
                keras.layers.Dense(16)(labels) if one_hot
                else keras.layers.Embedding(num_classes, 16)(labels)
            )  # fmt: skip
            features = keras.layers.Concatenate()([features, embedded])
        activation = "sigmoid" if sigmoid else None
        return keras.Model([images, labels], keras.layers.Dense(1, activation=activation)(features))

    return build


def test_the_conditional_discriminator_checker_accepts_the_lesson_and_names_mistakes():
    from gan_lessons.conditional import build_conditional_discriminator

    assert check_conditional_discriminator(
        lambda classes: build_conditional_discriminator(classes, filters=(8, 16))
    )
    assert check_conditional_discriminator(_conditional_discriminator())
    for message, wrong in {
        "the label does not change the verdict": _conditional_discriminator(use_label=False),
        "sigmoid": _conditional_discriminator(sigmoid=True),
        "embed them": _conditional_discriminator(one_hot=True),
    }.items():
        with pytest.raises(ExerciseError, match=message):
            check_conditional_discriminator(wrong)


def _critic_step(sign=1.0, norm="per image", epsilon="uniform per image", safe_norm=True):
    "A WGAN-GP critic step, with one mistake switched on."

    def step(critic, optimizer, real, fake, gp_weight=10.0):
        count = tf.shape(real)[0]
        shape = {"per pixel": tf.shape(real)}.get(epsilon, (count, 1, 1, 1))
        draw = tf.random.normal if epsilon == "normal" else tf.random.uniform
        eps = draw(shape)
        points = eps * real + (1 - eps) * fake
        with tf.GradientTape() as tape:
            with tf.GradientTape() as inner:
                inner.watch(points)
                scores = critic(points, training=True)
            slopes = inner.gradient(scores, points)
            squares = tf.reduce_sum(tf.reshape(slopes, (count, -1)) ** 2, axis=1)
            squares += 1e-12 if safe_norm else 0.0
            if norm == "squared":
                penalty = tf.reduce_mean((squares - 1) ** 2)
            elif norm == "batch":
                penalty = (tf.sqrt(tf.reduce_sum(squares)) - 1) ** 2
            else:
                penalty = tf.reduce_mean((tf.sqrt(squares) - 1) ** 2)
            gap = tf.reduce_mean(critic(fake, training=True)) - tf.reduce_mean(
                critic(real, training=True)
            )
            loss = sign * gap + gp_weight * penalty
        gradients = tape.gradient(loss, critic.trainable_variables)
        optimizer.apply_gradients(zip(gradients, critic.trainable_variables))
        return loss, penalty

    return step


def _lesson_critic_step(critic, optimizer, real, fake, gp_weight=10.0):
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(critic, real, fake)
        loss = wasserstein_critic_loss(critic(real), critic(fake)) + gp_weight * penalty
    gradients = tape.gradient(loss, critic.trainable_variables)
    optimizer.apply_gradients(zip(gradients, critic.trainable_variables))
    return loss, penalty


def test_the_critic_step_checker_accepts_the_lesson_and_names_mistakes():
    assert check_critic_step(_lesson_critic_step) is True
    assert check_critic_step(_critic_step()) is True
    for message, wrong in {
        "sign of the Wasserstein term": _critic_step(sign=-1.0),
        "squared norm": _critic_step(norm="squared"),
        "whole batch": _critic_step(norm="batch"),
        "one ε per pixel": _critic_step(epsilon="per pixel"),
        "ε is normal": _critic_step(epsilon="normal"),
        "NaN weights": _critic_step(safe_norm=False),
    }.items():
        with pytest.raises(ExerciseError, match=message):
            check_critic_step(wrong)


def _sample(mode="right"):
    def sample(logits, temperature, rng):
        logits = np.asarray(logits, np.float64)
        if temperature == 0 or mode == "argmax":
            return logits.argmax(axis=-1)
        scaled = {"multiply": logits * temperature, "ignore": logits}.get(
            mode, logits / temperature
        )
        probabilities = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
        probabilities /= probabilities.sum(axis=-1, keepdims=True)
        if mode == "uniform":
            probabilities = np.full_like(probabilities, 1 / probabilities.shape[-1])
        draws = rng.random((len(logits), 1))
        return (probabilities.cumsum(axis=-1) < draws).sum(axis=-1)

    return sample


def test_the_sampling_checker_accepts_the_lesson_and_names_mistakes():
    from gan_lessons.text import sample_from_logits

    lesson = lambda logits, temperature, rng: sample_from_logits(logits, temperature, rng=rng)
    assert check_sample_with_temperature(lesson) is True
    assert check_sample_with_temperature(_sample()) is True
    for message, wrong in {
        "multiplied by the temperature": _sample("multiply"),
        "temperature is not used": _sample("ignore"),
        "drawn uniformly": _sample("uniform"),
        "draw at random": _sample("argmax"),
    }.items():
        with pytest.raises(ExerciseError, match=message):
            check_sample_with_temperature(wrong)
