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


TWO_DEVICES = """
import json, keras, numpy as np, tensorflow as tf
from gan_lessons.devices import device_strategy
two = device_strategy(2)  # before TensorFlow runs anything: the CPU split in two
one = tf.distribute.get_strategy()
from gan_lessons import steps, training
from gan_lessons.discriminator import build_discriminator
from gan_lessons.generator import build_generator
from gan_lessons.training import GAN, EpochSeededImages, fit_gan

images = np.random.default_rng(0).integers(0, 256, (128, 28, 28), dtype=np.uint8)

def tiny_gan(strategy, optimizer=lambda: keras.optimizers.Adam(1e-3, beta_1=0.5)):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        gan = GAN(build_generator(channels=(32, 16, 8)),
                  build_discriminator(filters=(8, 16), dropout=0.0), seed=0)
        gan.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    return gan

def weights(gan):
    return [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]

def one_step(strategy, **options):
    gan = tiny_gan(strategy, **options)
    data = EpochSeededImages(images[:64], batch_size=64)
    gan.fit(data.dataset, epochs=1, callbacks=[data.callback], verbose=0, shuffle=False)
    return weights(gan)

def apart(first, second):
    return max(float(np.abs(a - b).max()) for a, b in zip(first, second))
"""


@pytest.mark.slow  # six one-step trainings on one and two logical devices
def test_one_step_on_two_devices_is_one_step_on_one_and_undoing_each_detail_breaks_it():
    report = run_script(
        TWO_DEVICES
        + """
start = weights(tiny_gan(one))
on_one = one_step(one)
result = dict(moved=apart(start, on_one), correct=apart(on_one, one_step(two)))
# Adam's step hardly depends on the gradient's scale: the undivided loss shows with plain SGD
sgd = dict(optimizer=lambda: keras.optimizers.SGD(0.05))
sgd_on_one = one_step(one, **sgd)
result["sgd_moved"] = apart(start, sgd_on_one)
result["sgd_correct"] = apart(sgd_on_one, one_step(two, **sgd))
steps.replicas, kept = (lambda: 1), steps.replicas
result["undivided_loss_sgd"] = apart(sgd_on_one, one_step(two, **sgd))
steps.replicas = kept
undo = dict(  # each of page 83's three details, undone alone
    undivided_loss=(steps, "replicas", lambda: 1),
    shared_noise=(training, "replica_share", lambda draw, count: draw(count)),
    per_replica_batch_norm=(training, "synchronize_batch_norm", lambda *models: 0),
)
for name, (module, attribute, replacement) in undo.items():
    kept = getattr(module, attribute)
    setattr(module, attribute, replacement)
    result[name] = apart(on_one, one_step(two))
    setattr(module, attribute, kept)
print(json.dumps(result))
"""
    )
    print(report)  # the differences, for the record (pytest -rP)
    assert report["correct"] < 1e-3 * report["moved"], report
    assert report["sgd_correct"] < 1e-3 * report["sgd_moved"], report
    # twice the gradient: SGD's step twice as long, its difference as large as the step itself
    assert report["undivided_loss_sgd"] > 0.5 * report["sgd_moved"], report
    for detail in ("shared_noise", "per_replica_batch_norm"):
        assert report[detail] > 0.1 * report["moved"], (detail, report)


@pytest.mark.slow  # trains a flow-matching U-Net and a GAN for a few steps on two devices
def test_flow_matching_step_and_an_interrupted_gan_run_on_two_devices_match_one_device(tmp_path):
    report = run_script(
        TWO_DEVICES
        + f"""
from gan_lessons.diffusion import build_flow_matching
labels = np.arange(64, dtype="int32") % 10

def flow_step(strategy):
    with strategy.scope():
        flow = build_flow_matching(seed=0, recipe=dict(widths=(8, 16, 32), jit_compile=False))
    before = [w.numpy() for w in flow.network.weights]
    data = EpochSeededImages(images[:64], batch_size=64, labels=labels)
    flow.fit(data.dataset, epochs=1, callbacks=[data.callback], verbose=0, shuffle=False)
    return before, [w.numpy() for w in flow.network.weights + flow.average.weights]

flow_start, flow_one = flow_step(one)
flow_moved = apart(flow_start, flow_one)
flow_apart = apart(flow_one, flow_step(two)[1])

straight = tiny_gan(two)
fit_gan(straight, images, epochs=2, out_dir="{tmp_path}/straight", batch_size=64, verbose=0)
first = tiny_gan(two)
fit_gan(first, images, epochs=1, out_dir="{tmp_path}/resumed", batch_size=64, verbose=0)
resumed = tiny_gan(two)  # a new process would build it afresh, then fit_gan resumes at epoch 2
fit_gan(resumed, images, epochs=2, out_dir="{tmp_path}/resumed", batch_size=64, verbose=0)
print(json.dumps(dict(flow_moved=flow_moved, flow_apart=flow_apart,
                      resumed_apart=apart(weights(straight), weights(resumed)))))
"""
    )
    print(report)  # the differences, for the record (pytest -rP)
    assert report["flow_apart"] < 1e-3 * report["flow_moved"], report
    assert report["resumed_apart"] == 0.0, report
