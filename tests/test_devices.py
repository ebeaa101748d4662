"""The fit()-based GAN unchanged under tf.distribute.MirroredStrategy (two logical CPU devices) and
under the mixed_float16 policy. Each runs in a fresh interpreter: logical devices and the global
dtype policy are process-wide."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

COMMON = """
import json, keras, numpy as np
from gan_lessons.discriminator import build_discriminator
from gan_lessons.generator import build_generator
from gan_lessons.recipes import WeightAverage
from gan_lessons.training import GAN, EpochSeededImages

def tiny_gan():
    keras.utils.set_random_seed(0)
    gan = GAN(build_generator(channels=(32, 16, 8)), build_discriminator(filters=(8, 16)),
              seed=0, options=[WeightAverage(0.9)])
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    return gan

def train(gan):
    images = np.random.default_rng(0).integers(0, 256, (256, 28, 28), dtype=np.uint8)
    data = EpochSeededImages(images, batch_size=64)
    models = {"generator": gan.generator, "discriminator": gan.discriminator,
              "average": gan.ema_generator}
    before = {name: [w.numpy().copy() for w in model.weights] for name, model in models.items()}
    history = gan.fit(data.dataset, epochs=2, callbacks=[data.callback], verbose=0, shuffle=False)
    changed = {name: any(not np.array_equal(old, new.numpy())
                         for old, new in zip(before[name], model.weights))
               for name, model in models.items()}
    finite = all(np.isfinite(w.numpy()).all() for w in gan.weights if w.dtype.startswith("float"))
    outputs = gan(keras.random.normal((3, gan.latent_dim)))
    return dict(losses=history.history["loss"], changed=changed, finite=finite,
                output_dtype=keras.backend.standardize_dtype(outputs.dtype))
"""


def run_script(body: str) -> dict:
    script = textwrap.dedent(body).replace("#COMMON", COMMON)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # trains under a two-device MirroredStrategy
def test_gan_trains_unchanged_under_mirrored_strategy_on_two_logical_cpus():
    report = run_script("""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        two = [tf.config.LogicalDeviceConfiguration()] * 2
        tf.config.set_logical_device_configuration(cpu, two)
        #COMMON
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            gan = tiny_gan()
        print(json.dumps(dict(replicas=strategy.num_replicas_in_sync, **train(gan))))
    """)
    assert report["replicas"] == 2
    assert report["finite"] and all(np.isfinite(loss) for loss in report["losses"])
    assert report["changed"] == {"generator": True, "discriminator": True, "average": True}


@pytest.mark.slow  # trains under mixed float16
def test_gan_trains_under_mixed_float16_with_loss_scaling_and_float32_outputs():
    report = run_script("""
        import keras
        keras.mixed_precision.set_global_policy("mixed_float16")
        #COMMON
        gan = tiny_gan()
        wrapped = [type(opt).__name__ for opt in (gan.g_optimizer, gan.d_optimizer)]
        compute = gan.generator.get_layer("up0").compute_dtype
        logits = gan.discriminator(keras.random.normal((2, 28, 28, 1)))
        logits_dtype = keras.backend.standardize_dtype(logits.dtype)
        report = dict(wrapped=wrapped, compute=compute, logits_dtype=logits_dtype, **train(gan))
        print(json.dumps(report))
    """)
    assert report["wrapped"] == ["LossScaleOptimizer", "LossScaleOptimizer"]
    assert report["compute"] == "float16", "the hidden layers must really compute in float16"
    assert report["output_dtype"] == "float32" and report["logits_dtype"] == "float32"
    assert report["finite"] and all(np.isfinite(loss) for loss in report["losses"])
    assert report["changed"] == {"generator": True, "discriminator": True, "average": True}
