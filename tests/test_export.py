"""`fgclip export`: a checkpoint as open_clip's local-dir folder, loaded back to the same outputs."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from fgclip import model as model_io
from fgclip.cli import app
from fgclip.export import CONFIG_FILE, WEIGHTS_FILE, export

TINY = {"embed_dim": 32, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def tiny_checkpoint(tmp_path, name: str, config: dict):
    """A randomly initialised model saved as a fgclip checkpoint; its weights perturbed away from
    any initialisation so that a loader that re-initialises cannot pass."""
    arch = model_io.Architecture(name, config)
    torch.manual_seed(0)
    net, _, _ = model_io.create(arch)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.01)
    path = tmp_path / f"{name}.pt"
    model_io.save_checkpoint(path, model=net, arch=arch, step=7)
    return path, net.eval()


def outputs(net, preprocess, tokenizer):
    image = Image.new("RGB", (40, 30), (200, 30, 90))
    image.paste((10, 220, 40), (5, 5, 20, 25))
    with torch.no_grad():
        return (net.encode_image(preprocess(image).unsqueeze(0)),
                net.encode_text(tokenizer(["a red square left of a green circle", "a dog"])))


@pytest.mark.parametrize("quick_gelu", [False, True])
def test_an_export_loads_with_local_dir_to_the_same_outputs(tmp_path, quick_gelu):
    import open_clip

    config = dict(TINY, quick_gelu=True) if quick_gelu else TINY
    name = "fgclip-export-tiny-quickgelu" if quick_gelu else "fgclip-export-tiny"
    checkpoint, original = tiny_checkpoint(tmp_path, name, config)
    folder = tmp_path / "exported"
    export(checkpoint, folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE])
    loaded, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    loaded.eval()
    tokenizer = open_clip.get_tokenizer(f"local-dir:{folder}")
    # The activation decides the outputs; QuickGELU must come back as QuickGELU.
    activations = {type(m).__name__ for m in loaded.modules()}
    assert ("QuickGELU" in activations) == quick_gelu
    for mine, theirs in zip(outputs(original, preprocess, tokenizer), outputs(loaded, preprocess, tokenizer)):
        assert torch.equal(mine, theirs)
    recorded = json.loads((folder / CONFIG_FILE).read_text())
    assert recorded["model_cfg"] == config and recorded["preprocess_cfg"]["size"] in (32, [32, 32])


def test_the_same_model_loaded_as_plain_gelu_differs(tmp_path):
    """The check above can fail: a QuickGELU model's weights in a GELU network change the outputs."""
    import open_clip

    checkpoint, original = tiny_checkpoint(tmp_path, "fgclip-export-tiny-quickgelu", dict(TINY, quick_gelu=True))
    folder = tmp_path / "exported"
    export(checkpoint, folder)
    config_path = folder / CONFIG_FILE
    config = json.loads(config_path.read_text())
    config["model_cfg"].pop("quick_gelu")
    config_path.write_text(json.dumps(config))
    loaded, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    tokenizer = open_clip.get_tokenizer(f"local-dir:{folder}")
    mine, theirs = outputs(original, preprocess, tokenizer), outputs(loaded.eval(), preprocess, tokenizer)
    assert not torch.allclose(mine[1], theirs[1])


def test_the_command_refuses_a_folder_in_use_unless_overwrite(tmp_path):
    checkpoint, _ = tiny_checkpoint(tmp_path, "fgclip-export-tiny", TINY)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    runner = CliRunner()
    refused = runner.invoke(app, ["export", str(checkpoint), "--output", str(folder)])
    assert refused.exit_code == 2 and "not empty" in refused.output and "--overwrite" in refused.output
    assert (folder / "notes.txt").read_text() == "mine"
    done = runner.invoke(app, ["export", str(checkpoint), "--output", str(folder), "--overwrite"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in folder.iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging folder left


def test_the_command_names_a_file_that_is_no_checkpoint(tmp_path):
    bad = tmp_path / "weights.pt"
    bad.write_bytes(b"not a checkpoint")
    result = CliRunner().invoke(app, ["export", str(bad), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2 and str(bad) in result.output
    assert not (tmp_path / "out").exists()
    missing = CliRunner().invoke(app, ["export", str(tmp_path / "none.pt"), "--output", str(tmp_path / "out")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
