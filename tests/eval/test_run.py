"""evaluate(): rows, resume, averages; the report; interpolate; the eval/report/interpolate commands."""

from __future__ import annotations

import json
import types

import pytest
import torch
from typer.testing import CliRunner

from fgclip import model as model_io
from fgclip.cli import app
from fgclip.config import EvalConfig
from fgclip.eval import benchmarks, run
from fgclip.eval.benchmarks import mean_score
from fgclip.eval.cases import ImageRef, Selection, Subset
from fgclip.eval.interpolate import interpolate
from fgclip.eval.report import write_report

from .test_scoring import StubEncoder, unit
from trainer.conftest import TINY_CONFIG, write_tiny_config  # tests/ is on sys.path (rootdir-relative packages)


def fake_benchmark(missing=()):
    """Two subsets of selection cases; 'all' is their mean."""
    subsets = [
        Subset("first", [Selection(ImageRef("a"), ("yes", "no")), Selection(ImageRef("b"), ("no", "yes"))]),
        Subset("second", [Selection(ImageRef("a"), ("yes", "no")), Selection(ImageRef("c"), ("yes", "no"))],
               missing_images=list(missing)),
    ]
    return types.SimpleNamespace(
        NAME="fake", EXPECTED="first.json, second.json",
        load=lambda root, images: subsets,
        averages=lambda scores: [s for s in [mean_score([x for x in scores if x.metric == "accuracy"], "all", "accuracy",
                                                        "mean of the 2 subsets")] if s])


def stub():
    return StubEncoder({"a": unit(0), "b": unit(90), "c": unit(45)}, {"yes": unit(10), "no": unit(80)})


@pytest.fixture
def with_fake(monkeypatch):
    monkeypatch.setattr(benchmarks, "module", lambda name: fake_benchmark(missing=["c"]))


def config(tmp_path, **overrides):
    values = dict(checkpoints=(str(tmp_path / "ck.pt"),), benchmarks=("fake",), data_root=str(tmp_path),
                  results=str(tmp_path / "results.jsonl"))
    values.update(overrides)
    return EvalConfig(**values)


def test_rows_hold_every_subset_metric_and_the_average(tmp_path, with_fake):
    rows = run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: stub())
    by_subset = {(r["subset"], r["metric"]): r for r in rows}
    # first: a->yes right; b (90 deg): "yes" at 10 vs "no" at 80 -> picks "no"... true caption is "no": right
    assert by_subset[("first", "accuracy")]["value"] == 100.0
    # second: a right; c's image is missing: wrong, counted
    assert by_subset[("second", "accuracy")]["value"] == 50.0 and by_subset[("second", "accuracy")]["missing"] == 1
    assert by_subset[("all", "accuracy")]["value"] == 75.0
    assert by_subset[("all", "accuracy")]["convention"] == "mean of the 2 subsets"
    assert set(rows[0]) == {"checkpoint", "name", "benchmark", "subset", "metric", "value", "n", "convention", "missing"}
    assert rows[0]["name"] == "ck" and rows[0]["checkpoint"] == str((tmp_path / "ck.pt").resolve())
    assert run.read_results(tmp_path / "results.jsonl") == rows


def test_an_interrupted_eval_resumes_where_it_stopped(tmp_path, with_fake):
    class Broken(StubEncoder):
        calls = 0

        def encode_images(self, refs):
            Broken.calls += 1
            if Broken.calls == 2:
                raise KeyboardInterrupt  # killed while scoring the second subset
            return super().encode_images(refs)

    broken = Broken(stub().images, stub().texts)
    with pytest.raises(KeyboardInterrupt):
        run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: broken)
    assert [r["subset"] for r in run.read_results(tmp_path / "results.jsonl")] == ["first"]
    again = stub()
    rows = run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: again)
    assert [r["subset"] for r in rows] == ["second", "all"]
    assert again.image_calls == ["a"]  # only the second subset's present image
    lines = []
    assert run.evaluate(config(tmp_path), echo=lines.append, encoder_for=lambda path: pytest.fail("no model needed")) == []
    assert any("already scored" in line for line in lines)


def test_a_missing_benchmark_folder_names_the_files_expected(tmp_path):
    result = CliRunner().invoke(app, ["eval", "--checkpoint", str(write_ck(tmp_path)), "--benchmark", "sugarcrepe",
                                      "--data-root", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere" in result.output and "replace_att" in result.output


def write_ck(tmp_path, config=None, seed=0, name="tiny-eval"):
    path = write_tiny_config(tmp_path, name)
    if config is not None:
        path.write_text(json.dumps(config))
    arch = model_io.resolve_architecture(str(path))
    torch.manual_seed(seed)
    net, _, _ = model_io.create(arch)
    checkpoint = tmp_path / f"{name}-{seed}.pt"
    model_io.save_checkpoint(checkpoint, model=net, arch=arch)
    return checkpoint


def test_report_tables_and_charts(tmp_path, with_fake):
    run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: stub())
    run.evaluate(config(tmp_path, checkpoints=(str(tmp_path / "other.pt"),)), echo=lambda _: None,
                 encoder_for=lambda path: StubEncoder(stub().images, {"yes": unit(80), "no": unit(10)}))
    written = write_report(tmp_path / "results.jsonl", tmp_path / "report")
    assert [p.name for p in written] == ["report.md", "summary.png", "fake.png"]
    text = (tmp_path / "report" / "report.md").read_text()
    assert "| checkpoint | fake accuracy |" in text
    assert "| ck | 75.0 |" in text and "| other | 0.0 |" in text
    assert "| second | accuracy | 50.0 | 0.0 | 2 | 1 | subset |" in text
    assert "| --- | --- | ---: | ---: | ---: | ---: | --- |" in text  # numbers right, words left
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written[1:])


def test_interpolate_is_exact_at_the_ends_and_the_mean_in_between(tmp_path):
    base, tuned = write_ck(tmp_path, seed=1), write_ck(tmp_path, seed=2)
    states = {alpha: model_io.read_checkpoint(interpolate(str(base), str(tuned), alpha, str(tmp_path / f"{alpha}.pt"))
                                              and tmp_path / f"{alpha}.pt")["state_dict"] for alpha in (0.0, 0.5, 1.0)}
    base_state, tuned_state = model_io.read_checkpoint(base)["state_dict"], model_io.read_checkpoint(tuned)["state_dict"]
    for key, value in tuned_state.items():
        assert torch.equal(states[0.0][key], base_state[key]), key
        assert torch.equal(states[1.0][key], value), key
        if value.is_floating_point():
            torch.testing.assert_close(states[0.5][key], (base_state[key] + value) / 2)


def test_interpolate_takes_a_plain_open_clip_base_and_refuses_other_architectures(tmp_path):
    tuned = write_ck(tmp_path, seed=2)
    plain = tmp_path / "plain.pt"
    torch.save(model_io.read_checkpoint(write_ck(tmp_path, seed=3))["state_dict"], plain)
    interpolate(str(plain), str(tuned), 0.25, str(tmp_path / "mixed.pt"))
    assert model_io.read_checkpoint(tmp_path / "mixed.pt")["interpolation"]["alpha"] == 0.25
    wider = dict(TINY_CONFIG, embed_dim=48)
    other = write_ck(tmp_path, config=wider, seed=4, name="tiny-wider")
    result = CliRunner().invoke(app, ["interpolate", str(other), str(tuned), "--output", str(tmp_path / "x.pt")])
    assert result.exit_code == 2 and "architecture" in result.output
    result = CliRunner().invoke(app, ["interpolate", str(plain), str(tuned), "--output", str(tmp_path / "x.pt"),
                                      "--alpha", "1.5"])
    assert result.exit_code == 2 and "alpha" in result.output


def test_an_empty_subset_gets_no_row_and_needs_no_model(tmp_path, monkeypatch):
    empty = types.SimpleNamespace(NAME="fake", EXPECTED="x", load=lambda root, images: [Subset("nothing", [])],
                                  averages=lambda scores: [])
    monkeypatch.setattr(benchmarks, "module", lambda name: empty)
    rows = run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: pytest.fail("no model needed"))
    assert rows == []


def test_averages_are_recomputed_when_subsets_are_added_later(tmp_path, monkeypatch):
    # A user scores the one subset they have, then adds the other: the "all" of the first run
    # must not survive as the benchmark's number.
    full = fake_benchmark()
    first_only = types.SimpleNamespace(**{**vars(full), "load": lambda root, images: full.load(root, images)[:1]})
    monkeypatch.setitem(benchmarks.BENCHMARKS, "fake", "fake")  # known, so tables recompute its averages
    monkeypatch.setattr(benchmarks, "module", lambda name: first_only)
    first = run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: stub())
    assert [(r["subset"], r["value"], r.get("covers")) for r in first] == [("first", 100.0, None),
                                                                          ("all", 100.0, ["first"])]
    monkeypatch.setattr(benchmarks, "module", lambda name: full)
    second = run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: stub())
    assert [(r["subset"], r["value"], r.get("covers")) for r in second] == [("second", 50.0, None),
                                                                           ("all", 75.0, ["first", "second"])]
    # The file keeps both snapshots; a table shows the one over every subset there is.
    rows = run.read_results(tmp_path / "results.jsonl")
    assert [r["subset"] for r in rows] == ["first", "all", "second", "all"]
    shown = [r for r in run.current_rows(rows) if r["subset"] == "all"]
    assert len(shown) == 1 and shown[0]["covers"] == ["first", "second"]
    # A rerun with nothing new writes nothing, not another identical snapshot.
    assert run.evaluate(config(tmp_path), echo=lambda _: None, encoder_for=lambda path: stub()) == []


def test_a_table_recomputes_an_average_stored_by_an_older_run(tmp_path, monkeypatch):
    monkeypatch.setitem(benchmarks.BENCHMARKS, "fake", "fake")
    monkeypatch.setattr(benchmarks, "module", lambda name: fake_benchmark())
    base = {"checkpoint": "/ck.pt", "name": "ck", "benchmark": "fake", "metric": "accuracy", "missing": 0}
    rows = [dict(base, subset="first", value=80.0, n=2, convention=""),
            dict(base, subset="all", value=80.0, n=2, convention="mean of 1 subset"),  # stale
            dict(base, subset="second", value=40.0, n=2, convention=""),
            dict(base, subset="first", value=60.0, n=2, convention="")]  # rescored: the last row wins
    shown = {(r["subset"], r["metric"]): r for r in run.current_rows(rows)}
    assert shown[("first", "accuracy")]["value"] == 60.0
    assert shown[("all", "accuracy")]["value"] == 50.0 and shown[("all", "accuracy")]["covers"] == ["first", "second"]
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = write_report(tmp_path / "r.jsonl", tmp_path / "out")[0].read_text()
    all_line = next(line for line in report.splitlines() if line.startswith("| all |"))
    assert "50.0" in all_line and "80.0" not in report
