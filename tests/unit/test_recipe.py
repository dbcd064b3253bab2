"""Recipe files (gan_zoo/recipe.py): read, applied under the command line, written, round-tripped.

The configs here are resolved with the trainer's own :func:`resolve_config` (no training); the
training round trip (``--dump-config`` then ``--config``, bit for bit) is
tests/e2e/test_recipe_files.py.
"""

from __future__ import annotations

import json
import sys

import pytest
from helpers import cli_in_process

from gan_zoo.checkpoint.record import config_record, record_to_config
from gan_zoo.config import NetSpec, to_dict
from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.hookspecs import hookimpl
from gan_zoo.recipe import load_preset, read_recipe, recipe_text, write_recipe
from gan_zoo.training.run import resolve_config

#: A command line with a bit of everything: options, shorthands, --set into options and dicts.
OPTIONS = dict(
    steps=7,
    batch_size=16,
    lr_d=1e-4,
    betas=(0.0, 0.9),
    ema=0.999,
    augment="translation,cutout",
    eval_metric="none",
    license="cc-by-4.0",
    log=("tensorboard",),
    device="cpu",
)
SETS = ["generator.width=8", "discriminator.width=8", "dataset_options.split=all", "ema_warmup=10"]


def resolved(tmp_path, **kwargs):
    return resolve_config("dcgan", "fashion-mnist", data_dir=str(tmp_path), **kwargs)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".json"])
def test_a_dumped_recipe_resolves_to_the_same_config(tmp_path, suffix):
    original = resolved(tmp_path, overrides=SETS, **OPTIONS)
    path = write_recipe(original, tmp_path / f"recipe{suffix}")
    again = resolve_config(recipe=path)
    assert to_dict(again) == to_dict(original)
    assert again.g_optim.lr == 2e-4 and again.d_optim.lr == 1e-4 and again.log == ["tensorboard"]


class RecipePresets:
    """A plugin whose preset is a recipe file (as docs/writing-plugins.md shows)."""

    def __init__(self, path):
        self.path = path

    @hookimpl
    def register_models(self, register):
        register("filed-gan", load_preset(self.path), description="A preset from a file.")


PRESET = """
batch_size = 32
z_dim = 64
lr = 1e-4
betas = [0.0, 0.99]

[generator]
name = "dcgan"
width = 16

[discriminator.options]
width = 16

[regularizer]
name = "r1"
options = { gamma = 1.0 }
"""


def test_a_plugin_preset_from_a_recipe_file(tmp_path, register_plugin):
    register_plugin(RecipePresets(write(tmp_path, "filed-gan.toml", PRESET)), "recipe-presets")
    config = resolve_config("filed-gan", "fashion-mnist", device="cpu")
    assert (config.batch_size, config.z_dim, config.g_optim.betas) == (32, 64, (0.0, 0.99))
    assert config.generator.options == {"width": 16}
    assert config.discriminator == NetSpec("dcgan", {"width": 16})
    assert config.regularizer == NetSpec("r1", {"gamma": 1.0})
    assert config.g_optim.lr == config.d_optim.lr == 1e-4
    # A setting the preset has, set to none on the command line: TOML lists it in `unset`.
    cleared = resolve_config("filed-gan", "fashion-mnist", overrides=["regularizer=null"])
    text = recipe_text(cleared, "toml")
    assert 'unset = ["regularizer"' in text
    again = resolve_config(recipe=write(tmp_path, "cleared.toml", text))
    assert again.regularizer is None and to_dict(again) == to_dict(cleared)


def test_a_preset_file_holds_no_run_settings(tmp_path):
    with pytest.raises(ConfigError, match=r"p.toml: unknown key 'device'"):
        load_preset(write(tmp_path, "p.toml", 'device = "cpu"\n'))
    with pytest.raises(ConfigError, match="holds the recipe, not 'dataset'"):
        load_preset(write(tmp_path, "p.toml", 'dataset = "mnist"\n'))


def test_the_command_line_wins_over_the_file(tmp_path):
    recipe = write(
        tmp_path,
        "r.toml",
        'model = "dcgan"\ndataset = "fashion-mnist"\nsteps = 5\nlr = 0.001\n'
        "[generator]\nwidth = 8\n",
    )
    config = resolve_config(recipe=recipe)
    assert (config.steps, config.g_optim.lr, config.generator.options["width"]) == (5, 1e-3, 8)
    config = resolve_config(
        recipe=recipe, steps=3, lr_g=0.5, overrides=["generator.width=4", "steps=2"]
    )
    assert (config.steps, config.g_optim.lr, config.d_optim.lr) == (2, 0.5, 1e-3)
    assert config.generator.options["width"] == 4
    assert resolve_config("wgan-gp", recipe=recipe).model == "wgan-gp"


def test_every_train_option_has_a_recipe_key():
    """What the command line can set, a recipe can (the invocation's own options aside)."""
    import dataclasses

    from gan_zoo.cli.train import train_cmd
    from gan_zoo.config import TrainConfig
    from gan_zoo.recipe import COMMAND_LINE_ONLY, SHORTHANDS

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    keys = fields | set(SHORTHANDS) | {"tensorboard"}  # --tensorboard is log = ["tensorboard"]
    names = {p.name for p in train_cmd.params} - {"model", "dataset", "recipe", "overrides"}
    assert names - keys == set(COMMAND_LINE_ONLY) & names
    assert {"resume", "quiet", "plain", "dump_config"} <= names


def test_init_takes_a_source_as_on_the_command_line(tmp_path):
    recipe = write(tmp_path, "r.toml", 'init = "runs/old"\n')
    assert resolve_config("dcgan", "fashion-mnist", recipe=recipe).init == {"source": "runs/old"}


def test_a_different_network_starts_without_the_presets_options(tmp_path):
    recipe = write(tmp_path, "r.toml", 'generator = "mlp"\n[discriminator]\nname = "dcgan"\n')
    config = resolve_config("dcgan", "fashion-mnist", recipe=recipe, overrides=SETS[1:2])
    assert config.generator == NetSpec("mlp")
    assert config.discriminator.options == {"width": 8}


def test_a_runs_config_json_is_a_recipe(tmp_path):
    original = resolved(tmp_path, overrides=SETS, out=str(tmp_path / "old-run"), **OPTIONS)
    record = config_record(original, class_names=["a", "b"])
    record.pop("log")
    record["tensorboard"] = True  # a config.json from before --log
    path = write(tmp_path, "config.json", json.dumps(record))
    config = resolve_config(recipe=path)
    assert config.out is None  # the old run's directory is not the new run's
    assert to_dict(config) == {**to_dict(original), "out": None}
    assert record_to_config(record).log == ["tensorboard"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("epoch = 3", "r.toml: unknown key 'epoch'; did you mean 'epochs'?"),
        ("[g_optim]\nlrr = 0.1", "r.toml: unknown key 'g_optim.lrr'; did you mean 'lr'?"),
        ("ler = 0.1", "r.toml: unknown key 'ler'; did you mean 'lr'"),
        ('steps = "ten"', "r.toml: steps must be an integer, got 'ten'"),
        ("steps = true", "r.toml: steps must be an integer, got True"),
        ("augment = 3", "r.toml: augment must be a string, got 3"),
        ("betas = [0.5]", "r.toml: betas must be a list of 2 numbers, got [0.5]"),
        ("model = 3", "r.toml: model must be a string, got 3"),
        ("batch_size = 0", "r.toml, key 'batch_size': batch size must be at least 1, got 0"),
        ("ema = 1.5", "r.toml, key 'ema': ema decay must be in [0, 1)"),
        ("[g_optim]\nlr = -1.0", "r.toml, key 'g_optim': learning rates must be positive"),
        ('generator = "dcgn"', "r.toml, key 'generator': unknown generator 'dcgn'; did you mean"),
        ('log = ["wandbb"]', "r.toml, key 'log': unknown tracker 'wandbb'; did you mean 'wandb'?"),
        ("[generator]\nwidht = 8", "r.toml, key 'generator': "),
        ('resume = "runs/x"', "r.toml: 'resume' is not a recipe setting; give --resume RUN"),
        ("[regularizer.options]\ngamma = 1.0", "r.toml: regularizer is not set by the preset"),
        ('unset = ["generator"]', "r.toml: generator cannot be none"),
        ("steps = ", "r.toml is not valid TOML: "),
    ],
)
def test_bad_settings_name_the_file_and_the_key(tmp_path, text, message):
    recipe = write(tmp_path, "r.toml", text + "\n")
    with pytest.raises(GanZooError) as info:
        resolve_config("dcgan", "fashion-mnist", recipe=recipe)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_bad_value_overridden_on_the_command_line_is_no_error(tmp_path):
    recipe = write(tmp_path, "r.toml", "batch_size = 0\n")
    assert resolve_config("dcgan", "fashion-mnist", recipe=recipe, batch_size=8).batch_size == 8
    with pytest.raises(ConfigError, match="^batch size must be at least 1"):  # not the file's
        resolve_config("dcgan", "fashion-mnist", batch_size=0)


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("r.ini", "", "a recipe file ends in .toml, .yaml, .yml or .json, not '.ini'"),
        ("r.yaml", "- a\n- b\n", "r.yaml must hold a mapping of settings, not a list"),
        ("r.yaml", "seed: 2024-01-01\n", "r.yaml: seed is a date, which a recipe cannot hold"),
        ("r.json", "{", "r.json is not valid JSON: "),
        ("missing.toml", None, "cannot read recipe "),
    ],
)
def test_files_that_are_not_recipes(tmp_path, name, text, message):
    path = write(tmp_path, name, text) if text is not None else tmp_path / name
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        read_recipe(path)


def test_yaml_without_pyyaml_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # as if PyYAML were not installed
    with pytest.raises(ConfigError, match=r"r\.yaml is YAML, which needs PyYAML: pip install"):
        read_recipe(write(tmp_path, "r.yaml", "steps: 2\n"))


def test_cli_dump_config_then_config(tmp_path, idx_dir):
    base = ["train", "dcgan", "fashion-mnist", "--steps", 3, "--set", "generator.width=8"]
    result = cli_in_process(*base, "--data-dir", idx_dir, "--dump-config", tmp_path / "r.yaml")
    assert result.exit_code == 0, result.output
    assert "Wrote " in result.output and not (tmp_path / "runs").exists()
    shown = cli_in_process("train", "--config", tmp_path / "r.yaml", "--dump-config", "-")
    assert shown.exit_code == 0, shown.output
    assert 'model = "dcgan"' in shown.output and "steps = 3" in shown.output


def test_cli_errors_are_one_line(tmp_path):
    recipe = write(tmp_path, "r.toml", "stepz = 3\n")
    result = cli_in_process("train", "dcgan", "fashion-mnist", "--config", recipe)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {recipe}: unknown key 'stepz'; did you mean 'steps'?"
    ]
    result = cli_in_process("train", "--config", write(tmp_path, "e.toml", "steps = 3\n"))
    assert result.exit_code == 2 and "as model and dataset in" in result.output
    result = cli_in_process("train", "--config", recipe, "--resume", tmp_path)
    assert result.exit_code == 2 and "give one of them" in result.output
    trackers = write(tmp_path, "t.toml", 'model = "dcgan"\ndataset = "mnist"\nlog = ["wandbb"]\n')
    result = cli_in_process("train", "--config", trackers, "--dump-config", "-")
    assert result.exit_code == 2
    assert (
        f"{trackers}, key 'log': unknown tracker 'wandbb'; did you mean 'wandb'?" in result.output
    )
