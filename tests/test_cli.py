"""The `gan-lessons` command and the trainer registry behind it: one-line refusals, dispatch by
the model's record, derived command lines, resume to identical weights for every trainer."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from gan_lessons.cli import SAMPLE_OPTIONS, TRAIN_OPTIONS, build_parser
from gan_lessons.pretrained import MODEL_KINDS
from gan_lessons.registry import KINDS, CommandError, trainer, trainers
from gan_lessons.runs import Run, RunSettings


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "gan", "--out", "x"], "invalid choice: 'gan'"),
        (["train", "dcgan", "--out", "x", "--epochs", "0"], "expected a whole number ≥ 1, got 0"),
        (["train", "dcgan", "--out", "x", "--recipe", "slow"], "invalid choice: 'slow'"),
        (["train", "dcgan", "--out", "x", "--clips", "3"], "--clips does not apply to dcgan"),
        (["train", "audio-gan", "--out", "x", "--images", "3"], "--images does not apply"),
        (["train", "dcgan"], "--out"),
        (["train", "dcgan", "--out", "x", "--minutes", "0"], "expected a number > 0, got 0.0"),
        (["train", "dcgan", "--out", "x", "--clusters", "-1"], "expected a whole number ≥ 0"),
        (["sample", "dcgan-mnist", "--n", "-3", "--out", "grid.png"], "expected a whole number"),
        (["sample", "dcgan-mnist", "--prompt", "a", "--out", "g.png"], "--prompt does not apply"),
        (["evaluate"], "model"),
        (["train", "vae", "--out", "x", "--devices", "2"], "--devices does not apply to vae"),
        (["train", "dcgan", "--out", "x", "--devices", "0"], "expected a whole number ≥ 1, got 0"),
    ],
)
def test_bad_arguments_exit_with_code_2_and_say_what_was_expected(argv, message, run_cli):
    code, _, err = run_cli(argv)
    assert code == 2 and message in err, err
    assert err.strip().count("\n") <= 5  # argparse's usage lines, then one message


def test_bad_inputs_exit_with_code_2_in_one_line_and_write_nothing(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "text.keras").write_text("not a zip archive")
    cases = [
        (["sample", "dcgan-cifar", "--out", "grid.png"], "unknown pretrained model 'dcgan-cifar'"),
        (["sample", "dcgan-mnist", "--out", "grid.jpg"], "must name a .png file"),
        (["sample", "dcgan-mnist", "--out", "missing/grid.png"], "folder of --out does not exist"),
        (["sample", "mnist-classifier", "--out", "grid.png"], "not a generator"),
        (["sample", "dcgan-mnist", "--n", "100000000", "--out", "g.png"], "at most 10,000"),
        (["sample", "audio-gan-tones", "--n", "100000000", "--out", "c.wav"], "GB of memory"),
        (["sample", "char-lstm-frankenstein", "--prompt", "Zebra"], "pass --unseen=replace"),
        (["sample", "text.keras", "--out", "grid.png"], "not a Keras archive"),
        (["evaluate", str(tmp_path)], "holds no model.keras"),
    ]
    for argv, message in cases:
        code, _, err = run_cli(argv)
        assert code == 2 and message in err and err.count("\n") == 1, (argv, err)
    assert [path.name for path in tmp_path.iterdir()] == ["text.keras"]


def test_the_flag_a_refusal_advises_works(run_cli):
    code, out, _ = run_cli(
        ["sample", "char-lstm-frankenstein", "--prompt", "Zebra", "--unseen", "replace",
         "--length", "20"]
    )  # fmt: skip
    assert code == 0 and len(out.rstrip("\n")) == len("Zebra") + 20


def test_sample_writes_the_png_and_nothing_else(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(["sample", "dcgan-mnist", "--n", "16", "--out", "grid.png"])
    assert code == 0 and "wrote 16 samples" in out
    assert [path.name for path in tmp_path.iterdir()] == ["grid.png"]
    from PIL import Image

    size = 2 * (4 * 29 + 1)  # a 4×4 grid of 28-pixel images with borders, upscaled twice
    assert Image.open(tmp_path / "grid.png").size == (size, size)


def test_generate_gives_the_same_samples_in_any_batch_size():
    from gan_lessons import pretrained
    from gan_lessons.evaluation import generate

    generator = pretrained.load("cgan-mnist")
    small, labels = generate(generator, 23, seed=4, batch_size=5)
    large, _ = generate(generator, 23, seed=4, batch_size=500)
    np.testing.assert_allclose(small, large, atol=1e-5)
    assert labels.tolist() == [index % 10 for index in range(23)]


def test_evaluate_json_reports_the_metrics_and_their_floor(with_data, run_cli):
    code, out, _ = run_cli(["evaluate", "dcgan-mnist", "--n", "300", "--json"])
    report = json.loads(out)
    assert code == 0
    for key in ("classifier_score", "fcd", "fcd_real_floor", "class_fractions", "n_samples"):
        assert key in report
    assert report["n_samples"] == 300 and len(report["class_fractions"]) == 10
    assert abs(sum(report["class_fractions"]) - 1) < 1e-3 and 1 <= report["classifier_score"] <= 10


def test_evaluate_dispatches_by_the_models_record(with_data, run_cli):
    code, out, _ = run_cli(["evaluate", "mnist-classifier", "--json"])
    assert code == 0 and json.loads(out)["heldout_accuracy"] >= 0.985
    code, out, _ = run_cli(["evaluate", "cgan-mnist", "--n", "200", "--json"])
    assert code == 0 and json.loads(out)["label_accuracy"] > 0.9


def test_the_registry_covers_every_option_and_every_kind():
    registered = trainers()
    assert set(registered) == {
        "classifier", "dcgan", "cgan", "wgan", "wgan-gp", "sngan", "vae", "audio-gan", "char-lstm",
        "diffusion", "char-gpt",
    }  # fmt: skip
    for chosen in registered.values():
        assert set(chosen.options) <= set(TRAIN_OPTIONS), chosen.name
        assert set(chosen.options) <= set(RunSettings.__dataclass_fields__), chosen.name
        assert set(chosen.defaults) <= set(chosen.options), chosen.name
        assert chosen.kind in KINDS, chosen.name
    assert set(KINDS) == set(MODEL_KINDS)
    for kind in KINDS.values():
        assert set(kind.options) <= set(SAMPLE_OPTIONS), kind.name


@pytest.mark.parametrize("name", ["dcgan", "char-lstm", "audio-gan", "vae", "diffusion"])
def test_the_recorded_command_reproduces_the_run(name, tmp_path):
    "The command in run.json, parsed again, gives the same trainer and the same settings."
    chosen = trainer(name)
    run = Run.start(chosen, tmp_path / "run", seed=3, **{"epochs": 2})
    args = build_parser().parse_args(run.record["command"].split()[1:])
    again = Run.start(
        trainer(args.model), args.out, seed=args.seed, epochs=args.epochs,
        **{option: getattr(args, option) for option in chosen.options},
    )  # fmt: skip
    assert again.settings == run.settings and args.model == name


def test_a_run_directory_holding_another_run_is_refused(tmp_path):
    from gan_lessons.checkpoints import write_json_atomically

    run = Run.start(trainer("dcgan"), tmp_path, images=256)
    write_json_atomically(tmp_path / "run.json", run.record)
    assert Run.start(trainer("dcgan"), tmp_path, images=256, epochs=99).settings.epochs == 99
    for other in (dict(images=128), dict(images=256, recipe="full"), dict(seed=1, images=256)):
        with pytest.raises(CommandError, match="holds a different run"):
            Run.start(trainer("dcgan"), tmp_path, **other)
    with pytest.raises(CommandError, match="holds a different run"):
        Run.start(trainer("cgan"), tmp_path, images=256)


def test_dcgan_self_conditions_on_100_clusters_by_default_with_the_fast_recipe(tmp_path):
    """The default is the best five-minute recipe (50 clusters on the learner's own, usually fewer,
    images); --clusters 0 and the full recipe are not self-conditioned."""
    assert Run.start(trainer("dcgan"), tmp_path / "a").settings.clusters == 100
    assert Run.start(trainer("dcgan"), tmp_path / "e", data="mine").settings.clusters == 50
    assert Run.start(trainer("dcgan"), tmp_path / "b", clusters=0).settings.clusters == 0
    assert Run.start(trainer("dcgan"), tmp_path / "c", recipe="full").settings.clusters == 0
    assert "--clusters 100" in Run.start(trainer("dcgan"), tmp_path / "d").record["command"]


@pytest.mark.slow  # trains until --minutes stops it, then the same command continues
def test_minutes_stops_at_an_epoch_end_and_the_same_command_continues(with_data, tmp_path, run_cli):
    argv = ["train", "dcgan", "--out", str(tmp_path / "run"), "--epochs", "3", "--images", "128"]
    argv += ["--clusters", "0", "--minutes", "0.001"]  # 0.06 s: after the first epoch, always
    code, out, err = run_cli(argv)
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert code == 0 and "stopped after epoch 1 of 3" in out, err
    assert record["completed_epochs"] == 1 and "--minutes" not in record["command"]
    code, out, err = run_cli(argv)
    assert code == 0 and "resuming after epoch 1 of 3" in out and "stopped after epoch 2" in out
    code, out, err = run_cli(argv[:-2])  # without the time box it finishes
    assert (
        code == 0
        and json.loads((tmp_path / "run" / "run.json").read_text())["completed_epochs"] == 3
    )


def _model_weights(run_dir):
    model = keras.models.load_model(run_dir / "model.keras", compile=False)
    return model.get_weights()


RESUMABLE = {
    "dcgan": ["--images", "256"],
    "wgan-gp": ["--images", "640"],
    "classifier": ["--images", "512"],
    "vae": ["--images", "512"],
    "char-lstm": ["--characters", "6000"],
    "char-gpt": ["--characters", "6000"],
    "audio-gan": ["--clips", "96"],
}


@pytest.mark.slow  # trains each model three times (2 epochs; 1; resumed to 2): one per trainer
@pytest.mark.parametrize("name", RESUMABLE)
def test_every_trainer_resumes_to_identical_weights(
    name, with_data, tmp_path, run_cli, monkeypatch
):
    "Two epochs straight, or one epoch, a new process's worth of state, and the second."
    small = RESUMABLE[name]
    if name.startswith("char-"):  # its held-out tail is scored after every epoch: a short text
        from gan_lessons import text_commands
        from gan_lessons.corpora import Corpus, load_text

        def short(name, **kwargs):
            return Corpus(load_text(name, **kwargs)[:30_000], "the text's first 30,000 characters")

        monkeypatch.setattr(text_commands, "load_text", short)
    straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
    assert run_cli(["train", name, "--out", straight, "--epochs", "2", *small])[0] == 0
    assert run_cli(["train", name, "--out", resumed, "--epochs", "1", *small])[0] == 0
    keras.backend.clear_session()  # nothing carried over in memory: only the files
    code, out, err = run_cli(["train", name, "--out", resumed, "--epochs", "2", *small])
    assert code == 0 and "resuming after epoch 1 of 2" in out, err
    record = json.loads((tmp_path / "resumed" / "run.json").read_text())
    assert record["completed_epochs"] == 2 and "--epochs 2" in record["command"]
    pairs = zip(_model_weights(tmp_path / "straight"), _model_weights(tmp_path / "resumed"))
    for before, after in pairs:
        np.testing.assert_array_equal(before, after)
    assert not list(tmp_path.rglob("*partial*"))


@pytest.mark.slow  # interrupts a real training process and resumes it
def test_an_interrupted_train_exits_130_keeps_its_checkpoint_and_resumes(
    with_data, tmp_path, run_cli, monkeypatch
):
    from gan_lessons import training

    real_fit = training.GAN.fit

    def fit_then_interrupt(self, *args, **kwargs):
        class Interrupt(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == 1:
                    raise KeyboardInterrupt

        kwargs["callbacks"] = [*kwargs["callbacks"], Interrupt()]
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(training.GAN, "fit", fit_then_interrupt)
    argv = ["train", "dcgan", "--out", str(tmp_path / "run"), "--epochs", "2", "--images", "128"]
    code, _, err = run_cli(argv)
    assert code == 130 and "rerun the same command" in err
    assert json.loads((tmp_path / "run" / "run.json").read_text())["completed_epochs"] == 1
    monkeypatch.setattr(training.GAN, "fit", real_fit)  # not undo(): it would unset the data too
    code, out, err = run_cli(argv)
    assert code == 0 and "resuming after epoch 1 of 2" in out, err
    assert not list(tmp_path.rglob("*partial*"))


@pytest.mark.slow  # trains in a subprocess that logs to a file
def test_training_into_a_log_file_prints_a_line_per_epoch(with_data, tmp_path):
    "Not a terminal: no carriage-return progress bar, one line per epoch."
    from pathlib import Path

    command = [str(Path(sys.executable).with_name("gan-lessons")), "train", "vae", "--out",
               str(tmp_path / "run"), "--epochs", "3", "--images", "256"]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert "\r" not in finished.stdout and "\x08" not in finished.stdout
    epoch_lines = [line for line in finished.stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]


@pytest.mark.slow  # trains a run, then measures it for its card
def test_a_run_is_published_with_a_card_built_from_its_records(with_data, tmp_path, run_cli):
    sys.path.insert(0, "tools")
    from publish_pretrained import card

    run_dir = tmp_path / "run"
    argv = ["train", "dcgan", "--out", str(run_dir), "--epochs", "1", "--images", "128"]
    assert run_cli(argv)[0] == 0
    text = card("dcgan-mnist", run_dir)
    command = f"gan-lessons train dcgan --out {run_dir} --seed 0 --images 128 --recipe fast "
    assert command + "--clusters 100 --epochs 1" in text  # every setting, in RunSettings' order
    assert "1 epochs × 2 steps = 2 steps" in text and "| classifier score |" in text


def test_every_command_the_readme_and_the_cli_page_show_parses():
    "A documented command line that argparse refuses would be a broken promise."
    import json as json_module
    import re
    import shlex
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    page = json_module.loads((root / "nbs" / "93_cli.ipynb").read_text(encoding="utf-8"))
    texts = [(root / "README.md").read_text(encoding="utf-8")]
    texts += ["".join(cell["source"]) for cell in page["cells"] if cell["cell_type"] == "markdown"]
    shown = [
        line.split("  #")[0].strip()
        for text in texts
        for line in re.findall(r"^gan-lessons [^\n]+", text, flags=re.MULTILINE)
    ]
    assert len(shown) >= 15
    for line in shown:
        argv = [word for word in shlex.split(line)[1:] if not word.startswith("[")]
        try:
            build_parser().parse_args([word for word in argv if not word.endswith("]")])
        except SystemExit:
            raise AssertionError(f"documented but refused: {line}") from None


@pytest.mark.slow  # trains in a subprocess on two logical CPU devices, then resumes on one
def test_train_on_two_devices_then_resume_on_one(with_data, tmp_path):
    from pathlib import Path

    program = str(Path(sys.executable).with_name("gan-lessons"))
    command = [program, "train", "dcgan", "--out", str(tmp_path / "run"), "--images", "256"]
    command += ["--devices", "2"]
    env = {**__import__("os").environ, "GAN_LESSONS_MAX_STEPS": "2"}
    first = subprocess.run([*command, "--epochs", "1"], capture_output=True, text=True, env=env)
    assert first.returncode == 0 and "2 replicas (MirroredStrategy)" in first.stdout, first.stderr
    one_device = [word for word in command if word not in ("--devices", "2")]
    then = subprocess.run([*one_device, "--epochs", "2"], capture_output=True, text=True, env=env)
    assert then.returncode == 0 and "resuming after epoch 1 of 2" in then.stdout, then.stderr
