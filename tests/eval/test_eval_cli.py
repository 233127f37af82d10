"""`fgclip eval` and `fgclip report` end to end: a tiny random open_clip checkpoint, a small
SugarCrepe-format folder with drawn images, the real encoder and its disk cache."""

from __future__ import annotations

import json

from PIL import Image
from typer.testing import CliRunner

from fgclip.eval.run import read_results

from .test_run import write_ck

SUBSETS = ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
runner = CliRunner()


def sugarcrepe_folder(root):
    (root / "images").mkdir(parents=True)
    for n, stem in enumerate(SUBSETS):
        cases = {str(i): {"filename": f"{(n + i) % 4:012d}.jpg", "caption": f"a red cube left of a ball {i}",
                          "negative_caption": f"a ball left of a red cube {n}"} for i in range(2)}
        (root / f"{stem}.json").write_text(json.dumps(cases))
    for i in range(3):  # image 3 is missing on purpose
        Image.new("RGB", (40, 30), (60 * i, 100, 200)).save(root / "images" / f"{i:012d}.jpg")
    return root


def test_eval_then_report_on_a_tiny_checkpoint(tmp_path):
    data = sugarcrepe_folder(tmp_path / "sugarcrepe")
    checkpoint = write_ck(tmp_path)
    args = ["eval", "--checkpoint", str(checkpoint), "--name", "tiny", "--benchmark", "sugarcrepe", "--data-root",
            str(data), "--images", str(data / "images"), "--results", str(tmp_path / "results.jsonl"), "--device", "cpu"]
    result = runner.invoke(app_(), args)
    assert result.exit_code == 0, result.output
    rows = read_results(tmp_path / "results.jsonl")
    subsets = {r["subset"]: r for r in rows if not r["convention"]}
    assert set(subsets) == set(SUBSETS) and all(r["n"] == 2 and r["metric"] == "accuracy" for r in subsets.values())
    assert sum(r["missing"] for r in subsets.values()) == 3  # image 3 is in files 2, 3 and 6
    averages = {r["subset"] for r in rows if r["convention"]}
    assert averages == {"all", "add", "replace", "swap"}
    assert "image(s) missing" in result.output
    assert list((tmp_path / "fgclip-eval-cache").iterdir())  # features kept for the next run

    again = runner.invoke(app_(), args)
    assert again.exit_code == 0 and "already scored" in again.output and "0 row(s) added" in again.output

    report = runner.invoke(app_(), ["report", str(tmp_path / "results.jsonl"), "--output", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    assert "| checkpoint | sugarcrepe accuracy |" in (tmp_path / "report" / "report.md").read_text()


def test_eval_refuses_a_missing_checkpoint_and_an_unknown_benchmark(tmp_path):
    result = runner.invoke(app_(), ["eval", "--checkpoint", str(tmp_path / "none.pt"), "--benchmark", "sugarcrepe",
                                    "--data-root", str(tmp_path)])
    assert result.exit_code == 2 and "not found" in result.output
    checkpoint = write_ck(tmp_path)
    result = runner.invoke(app_(), ["eval", "--checkpoint", str(checkpoint), "--benchmark", "imagenet-x",
                                    "--data-root", str(tmp_path)])
    assert result.exit_code == 2 and "unknown benchmark" in result.output


def test_eval_takes_its_options_from_a_config_file_and_flags_win(tmp_path):
    data = sugarcrepe_folder(tmp_path / "sugarcrepe")
    checkpoint = write_ck(tmp_path)
    config = tmp_path / "eval.yaml"
    config.write_text(f"checkpoints: [{checkpoint}]\nnames: [from-file]\nbenchmarks: [sugarcrepe]\n"
                      f"data_root: {data}\nimages: {data / 'images'}\nresults: {tmp_path / 'file.jsonl'}\n"
                      f"device: cpu\n")
    result = runner.invoke(app_(), ["eval", "--config", str(config), "--results", str(tmp_path / "flag.jsonl")])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "file.jsonl").exists()  # the flag won over the file
    assert {r["name"] for r in read_results(tmp_path / "flag.jsonl")} == {"from-file"}

    config.write_text("benchmarks: [sugarcrepe]\nbatch_sise: 8\n")
    result = runner.invoke(app_(), ["eval", "--config", str(config)])
    assert result.exit_code == 2 and "batch_sise" in result.output
    result = runner.invoke(app_(), ["eval", "--benchmark", "sugarcrepe"])
    assert result.exit_code == 2 and "--checkpoint" in result.output


def app_():
    from fgclip.cli import app

    return app


def test_plain_open_clip_weights_need_and_take_model(tmp_path):
    import torch

    from fgclip import model as model_io

    data = sugarcrepe_folder(tmp_path / "sugarcrepe")
    fgclip_checkpoint = write_ck(tmp_path)
    plain = tmp_path / "plain.pt"
    torch.save(model_io.read_checkpoint(fgclip_checkpoint)["state_dict"], plain)

    def args(checkpoint, results, *extra):
        return ["eval", "--checkpoint", str(checkpoint), "--benchmark", "sugarcrepe", "--data-root", str(data),
                "--images", str(data / "images"), "--results", str(tmp_path / results), "--device", "cpu", *extra]

    result = runner.invoke(app_(), args(plain, "plain.jsonl"))
    assert result.exit_code == 2 and "--model" in result.output
    result = runner.invoke(app_(), args(plain, "plain.jsonl", "--model", str(tmp_path / "tiny-eval.json")))
    assert result.exit_code == 0, result.output
    assert runner.invoke(app_(), args(fgclip_checkpoint, "fgclip.jsonl")).exit_code == 0

    def values(name):
        return {(r["subset"], r["metric"]): r["value"] for r in read_results(tmp_path / name)}

    assert values("plain.jsonl") == values("fgclip.jsonl")  # the same weights score the same, whichever file holds them


def test_a_torchscript_archive_like_openais_own_file_loads(tmp_path):
    """OpenAI's CLIP files are TorchScript archives, which torch.load(weights_only=True) refuses."""
    import warnings

    import open_clip
    import torch

    from fgclip import model as model_io

    checkpoint = write_ck(tmp_path)
    arch = model_io.read_checkpoint(checkpoint)["arch"]
    model_io.register(arch)
    net = open_clip.create_model(arch.name)
    net.load_state_dict(model_io.read_checkpoint(checkpoint)["state_dict"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, the files are still around
        torch.jit.save(torch.jit.script(net), tmp_path / "scripted.pt")
    assert model_io.is_torchscript(tmp_path / "scripted.pt") and not model_io.is_torchscript(checkpoint)
    _, loaded, _ = model_io.load_for_inference(tmp_path / "scripted.pt", model=str(tmp_path / "tiny-eval.json"))
    expected = model_io.read_checkpoint(checkpoint)["state_dict"]
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, expected[key]), key
