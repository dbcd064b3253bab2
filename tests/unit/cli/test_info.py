"""``gan-zoo info PRESET`` (gan_zoo/cli/info.py, recipe.py): the whole recipe, the preset's
results records and the pretrained tags trained from it; a file or folder of that name wins."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, cli_in_process

from gan_zoo import measured, plugins
from gan_zoo.cli.recipe import recipe_lines
from gan_zoo.config import to_dict
from gan_zoo.factory import get_preset


@pytest.fixture
def pretrained(use_distribution, monkeypatch):
    use_distribution(ROOT / "plugins" / "gan-zoo-pretrained")
    monkeypatch.setenv("GAN_ZOO_LOAD_PLUGINS", "gan-zoo-pretrained")
    plugins.reset()


def _rows(name: str) -> dict[str, str]:
    result = cli_in_process("info", name)
    assert result.exit_code == 0, result.output
    return dict(line.split("\t", 1) for line in result.stdout.splitlines())


def test_the_whole_recipe(pretrained):
    rows = _rows("wgan-gp")
    preset = get_preset("wgan-gp")
    assert rows["preset"] == "wgan-gp (gan-zoo 0.1.0)"
    assert rows["generator"].startswith("dcgan (defaults width=")
    assert rows["discriminator"].startswith("dcgan (norm=none; defaults ")
    assert rows["loss"] == "wgan-gp (gp_weight=10)"
    assert rows["extra penalty"] == "none"
    assert rows["D steps"] == f"{preset.n_critic} per G step" == "5 per G step"
    assert rows["G optimizer"] == rows["D optimizer"] == "Adam lr 0.0001, betas (0.5, 0.9)"
    assert rows["schedule"] == f"{preset.epochs} epochs, constant learning rate"
    assert rows["batch"] == str(preset.batch_size) and rows["latent"] == "z_dim 128"
    assert rows["EMA"] == "off" and rows["augmentation"] == "off"
    assert rows["train"] == "gan-zoo train wgan-gp DATASET"


def test_the_records_and_the_quality_figure(pretrained):
    rows = _rows("dcgan")
    best = measured.best("dcgan", "gan-zoo")
    assert rows["quality"].startswith(f"FID {measured.fid_text(best)}, {best.img_s:.0f} img/s")
    for m in measured.of_preset("dcgan", "gan-zoo"):
        assert rows[f"record {m.record}"].startswith(f"FID {measured.fid_text(m)}")
        assert ("not a quality figure" in rows[f"record {m.record}"]) is not m.is_quality
    assert (
        "not a quality figure: not the preset's recipe: --epochs 2"
        in _rows("sngan")["record sngan-s0"]
    )
    assert _rows("sngan")["quality"] == "no record of its own recipe at the standard protocol"


def test_the_pretrained_tags_built_from_it(pretrained):
    assert _rows("dcgan")["pretrained"] == "dcgan.fashion-mnist"
    assert _rows("cgan")["pretrained"] == "cgan.fashion-mnist"
    assert _rows("gan")["pretrained"].startswith("none installed")
    # The tag itself is still the checkpoint's info.
    assert json.loads(cli_in_process("info", "dcgan.fashion-mnist", "--json").stdout)["model"] == (
        "dcgan"
    )


def test_json(pretrained):
    data = json.loads(cli_in_process("info", "dcgan", "--json").stdout)
    assert data["recipe"] == to_dict(get_preset("dcgan"))
    assert data["best_record"] == measured.best("dcgan", "gan-zoo").record
    assert [r["record"] for r in data["records"]] == [
        m.record for m in measured.of_preset("dcgan", "gan-zoo")
    ]
    assert data["pretrained"] == ["dcgan.fashion-mnist"]


@pytest.mark.parametrize("width", [80, 120])
def test_fits_the_terminal(width):
    lines = recipe_lines(plugins.registry("models").get("dcgan"), plain=False, width=width)
    assert max(len(line) for line in lines) <= width
    assert lines[0].split() == ["preset", "dcgan", "(gan-zoo", "0.1.0)"]


def test_a_folder_of_that_name_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dcgan").mkdir()
    result = cli_in_process("info", "dcgan")
    assert result.exit_code == 2 and result.output.startswith("Error: ")
    assert len(result.output.splitlines()) == 1


def test_an_unknown_name_is_one_line_exit_2():
    result = cli_in_process("info", "dcgn")
    assert result.exit_code == 2 and result.output.startswith("Error: ")
    assert len(result.output.splitlines()) == 1 and "did you mean 'dcgan'" in result.output
