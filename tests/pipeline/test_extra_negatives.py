"""--extra-negatives: negatives made elsewhere merged into the shards, each labelled by its source."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fgclip.cli import app
from fgclip.config import BuildConfig
from fgclip.pipeline.build import UsageError
from fgclip.pipeline.extra_negatives import (
    NEGCLIP_KIND,
    ExtraNegativesError,
    guess_format,
    read_extra_negatives,
)
from fgclip.schema import GENERATED, Negative

from .corpus import captions, write_jsonl_corpus
from .test_build import build, digests

NEGCLIP_TSV = Path(__file__).parents[3] / "shared" / "data" / "negclip" / "valid_neg_clip.tsv"


def records(folder: Path) -> dict[str, dict]:
    """Every sample's json record in the build, by key."""
    found = {}
    for tar_path in sorted(folder.glob("*.tar")):
        with tarfile.open(tar_path) as tar:
            for member in tar.getmembers():
                if member.name.endswith(".json"):
                    found[member.name[:-5]] = json.loads(tar.extractfile(member).read())
    return found


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


# ---------------------------------------------------------------------------------------------
# The schema: a missing source is "generated", and generated records keep their old bytes


def test_generated_records_have_no_source_key_and_read_back_as_generated():
    negative = Negative("a cat under a table", "relation", "replace-rel")
    assert negative.to_dict() == {"text": "a cat under a table", "kind": "relation", "rule": "replace-rel"}
    assert Negative.from_dict(negative.to_dict()).source == GENERATED
    imported = Negative("a dog on a table", "object", "imported", "negclip")
    assert imported.to_dict()["source"] == "negclip"
    assert Negative.from_dict(imported.to_dict()) == imported


# ---------------------------------------------------------------------------------------------
# Reading the three formats


def test_jsonl_lines_by_key_or_caption_with_defaults_and_malformed_counted(tmp_path):
    path = write_lines(tmp_path / "extra.jsonl", [
        {"key": "000000001", "negatives": [{"text": "a red cat", "kind": "attribute", "source": "human"}]},
        {"caption": " a dog on a sofa ", "negatives": [{"text": "a sofa on a dog", "kind": "relation"},
                                                       {"text": "a dog on a cat", "kind": "colour"},
                                                       {"kind": "object"}]},
        "{not json",
        {"negatives": [{"text": "no key nor caption", "kind": "object"}]},
        {"key": "000000002", "negatives": "not a list"},
        {"key": "000000003", "caption": "a cat", "negatives": [{"text": "a hat", "kind": "object", "rule": "swap"}]},
    ])
    extra = read_extra_negatives([str(path)])
    summary = extra.summary()
    assert summary["entries"] == 3 and summary["negatives"] == 3
    assert summary["malformed_lines"] == 3 and summary["malformed_negatives"] == 2
    (ids, negs), = extra.lookup("000000001", "whatever caption")
    assert negs == [("a red cat", "attribute", "imported", "human")]
    (ids, negs), = extra.lookup("000000009", "a dog on a sofa")  # the caption stripped, as the shards hold it
    assert negs == [("a sofa on a dog", "relation", "imported", "imported")]
    assert extra.lookup("000000003", "another caption") == []  # key and caption must both match
    (ids, negs), = extra.lookup("000000003", "a cat")
    assert negs == [("a hat", "object", "swap", "imported")]


def test_negclip_tsv_rows_are_relation_swaps_from_negclip():
    extra = read_extra_negatives([str(NEGCLIP_TSV)])
    assert extra.files[0]["format"] == "negclip"
    (ids, negs), = extra.lookup("-", "A child holding a flowered umbrella and petting a yak.")
    assert [n[0] for n in negs] == ["A umbrella holding a flowered child and petting a yak .",
                                    "A child petting a flowered umbrella and holding a yak ."]
    assert {(n[1], n[3]) for n in negs} == {(NEGCLIP_KIND, "negclip")}
    assert extra.summary()["malformed_lines"] == 0


def test_negclip_bad_rows_are_counted(tmp_path):
    path = tmp_path / "neg.tsv"
    path.write_text("\ttitle\tfilepath\tneg_caption\tneg_image\n"
                    "0\tA cat on a mat.\tx.jpg\t['A mat on a cat .']\t[1]\n"
                    "1\tA dog.\tx.jpg\tnot a list\t[1]\n"
                    "2\tshort row\n")
    extra = read_extra_negatives([str(path)])
    assert extra.summary()["entries"] == 1 and extra.summary()["malformed_lines"] == 2


def test_sugarcrepe_kind_comes_from_the_file_name(tmp_path):
    items = {"0": {"filename": "x.jpg", "caption": "A man on a red bike.", "negative_caption": "A man on a blue bike."},
             "1": {"filename": "y.jpg", "caption": "A bad item"}}
    (tmp_path / "swap_att.json").write_text(json.dumps(items))
    (tmp_path / "add_obj.json").write_text(json.dumps(items))
    (tmp_path / "replace_rel.json").write_text(json.dumps(items))
    (tmp_path / "swap_obj.json").write_text(json.dumps(items))  # fgclip's swap-obj: a relation negative
    names = ("swap_att.json", "add_obj.json", "replace_rel.json", "swap_obj.json")
    extra = read_extra_negatives([str(tmp_path / n) for n in names])
    found = [negative for _, negs in extra.lookup("-", "A man on a red bike.") for negative in negs]
    assert [(n[1], n[2], n[3]) for n in found] == [
        ("attribute", "swap-att", "sugarcrepe"), ("object", "add-obj", "sugarcrepe"),
        ("relation", "replace-rel", "sugarcrepe"), ("relation", "swap-obj", "sugarcrepe")]
    assert extra.summary()["malformed_lines"] == 4


def test_sugarcrepe_file_of_another_name_is_refused(tmp_path):
    (tmp_path / "mine.json").write_text(json.dumps({"0": {"caption": "a", "negative_caption": "b"}}))
    with pytest.raises(ExtraNegativesError, match="replace_att"):
        read_extra_negatives([str(tmp_path / "mine.json")], "sugarcrepe")


def test_format_from_name_and_content(tmp_path):
    assert guess_format("x.jsonl", b"") == "jsonl"
    assert guess_format("x.tsv", b"") == "negclip"
    assert guess_format("swap_obj.json", b"{}") == "sugarcrepe"
    assert guess_format("x.txt", b'{"key": "1", "negatives": []}\n{"key": "2", "negatives": []}\n') == "jsonl"
    assert guess_format("x.txt", b"\ttitle\tfilepath\tneg_caption\tneg_image\n") == "negclip"
    with pytest.raises(ExtraNegativesError, match="extra-negatives-format"):
        guess_format("x.txt", b"hello")


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ExtraNegativesError, match="nope.jsonl"):
        read_extra_negatives([str(tmp_path / "nope.jsonl")])


# ---------------------------------------------------------------------------------------------
# The build


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_jsonl_corpus(tmp_path_factory.mktemp("corpus"), 8)


@pytest.fixture(scope="module")
def plain(corpus, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("plain") / "shards"
    build(corpus, output, shard_size=4)
    return output


def extra_file(folder: Path) -> Path:
    texts = captions()
    return write_lines(folder / "extra.jsonl", [
        {"key": "000000001", "negatives": [{"text": "a purple giraffe", "kind": "object", "source": "human"}]},
        {"caption": texts[2], "negatives": [{"text": "imported relation negative", "kind": "relation"},
                                            {"text": texts[2], "kind": "relation"},  # the caption itself
                                            {"text": "odd", "kind": "colour"}]},
        {"key": "999999999", "negatives": [{"text": "nobody's", "kind": "object"}]},
        {"caption": "a caption no sample has", "negatives": [{"text": "nobody's", "kind": "object"}]},
        "{broken",
    ])


def test_build_merges_imported_negatives_beside_the_generated_ones(corpus, plain, tmp_path):
    output = tmp_path / "shards"
    messages: list[str] = []
    from fgclip.pipeline.build import build_negatives

    totals = build_negatives(BuildConfig(input=str(corpus), output=str(output), executor="local", shard_size=4,
                                         extra_negatives=(str(extra_file(tmp_path)),)), echo=messages.append)
    before, after = records(plain), records(output)
    assert before.keys() == after.keys()
    texts = captions()
    for key, record in after.items():
        for old, new in zip(before[key]["captions"], record["captions"]):
            generated = [n for n in new["negatives"] if "source" not in n]
            assert generated == old["negatives"]  # the generated ones unchanged, first, no source key
            imported = [n for n in new["negatives"] if "source" in n]
            if key == "000000001":
                assert imported == [{"text": "a purple giraffe", "kind": "object", "rule": "imported",
                                     "source": "human"}]
            elif old["text"] == texts[2]:
                assert imported == [{"text": "imported relation negative", "kind": "relation", "rule": "imported",
                                     "source": "imported"}]
            else:
                assert imported == []
    extra = totals["extra_negatives"]
    assert extra["entries"] == 4 and extra["matched"] == 2 and extra["unmatched"] == 2
    assert extra["malformed_lines"] == 1 and extra["malformed_negatives"] == 1
    assert extra["skipped"] == {"same_as_caption": 1}
    generated_total = sum(totals["negatives"].values()) - 2
    assert totals["sources"] == {"generated": generated_total, "human": 1, "imported": 1}
    shard_stats = json.loads((output / "000000_stats.json").read_text())
    assert shard_stats["sources"]["human"] == 1
    manifest = json.loads((output / "manifest.json").read_text())
    (recorded,) = manifest["identity"]["extra_negatives"]
    assert recorded["path"] == str((tmp_path / "extra.jsonl").resolve()) and len(recorded["sha256"]) == 64
    summary = "\n".join(messages)
    assert "unmatched" in summary and "malformed" in summary and "negatives from human" in summary


def test_a_build_without_extra_negatives_keeps_its_bytes_and_records(plain):
    for record in records(plain).values():
        for caption in record["captions"]:
            assert all("source" not in n for n in caption["negatives"])
    manifest = json.loads((plain / "manifest.json").read_text())
    assert "extra_negatives" not in manifest["identity"] and "extra_negatives" not in manifest["totals"]


def test_same_extra_file_same_bytes_and_a_changed_one_is_another_build(corpus, tmp_path):
    path = extra_file(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    build(corpus, first, shard_size=4, extra_negatives=(str(path),))
    build(corpus, second, shard_size=4, extra_negatives=(str(path),), workers=2)
    assert digests(first) == digests(second)
    build(corpus, first, shard_size=4, extra_negatives=(str(path),))  # a rerun of the same build: nothing to do
    path.write_text(path.read_text().replace("purple giraffe", "green giraffe"))
    with pytest.raises(UsageError, match="extra negatives"):
        build(corpus, first, shard_size=4, extra_negatives=(str(path),))


def test_imported_negatives_alone_with_no_negatives(corpus, tmp_path):
    output = tmp_path / "shards"
    totals = build(corpus, output, shard_size=4, no_negatives=True, extra_negatives=(str(extra_file(tmp_path)),))
    assert totals["sources"] == {"human": 1, "imported": 1}
    negatives = [n for r in records(output).values() for c in r["captions"] for n in c["negatives"]]
    assert {n["source"] for n in negatives} == {"human", "imported"}


def test_imported_negatives_of_kinds_not_built_are_counted_not_written(corpus, tmp_path):
    totals = build(corpus, tmp_path / "shards", shard_size=4, no_negatives=True, kinds=("relation",),
                   extra_negatives=(str(extra_file(tmp_path)),))
    assert totals["sources"] == {"imported": 1}
    assert totals["extra_negatives"]["skipped"] == {"kind_not_built": 1, "same_as_caption": 1}


def test_an_unreadable_extra_file_stops_the_build_before_any_work(corpus, tmp_path):
    with pytest.raises(UsageError, match="--extra-negatives .*missing.jsonl"):
        build(corpus, tmp_path / "shards", extra_negatives=(str(tmp_path / "missing.jsonl"),))
    assert not (tmp_path / "shards").exists()


def test_config_checks_the_format():
    with pytest.raises(ValueError, match="extra_negatives_format must be one of"):
        BuildConfig(input="i", output="o", extra_negatives=("x",), extra_negatives_format="csv")
    with pytest.raises(ValueError, match="none is given"):
        BuildConfig(input="i", output="o", extra_negatives_format="jsonl")


def test_cli_wrong_format_exits_2_saying_why(corpus, tmp_path):
    result = CliRunner().invoke(app, ["pipeline", "build-negatives", "--input", str(corpus), "--output",
                                      str(tmp_path / "o"), "--extra-negatives", "x.jsonl",
                                      "--extra-negatives-format", "xml"])
    assert result.exit_code == 2 and "extra_negatives_format must be one of" in result.output


# ---------------------------------------------------------------------------------------------
# The shapes world's scene-graph negatives


@pytest.fixture(scope="module")
def shapes_corpus(tmp_path_factory) -> Path:
    from fgclip.synthetic.shapes import write_corpus

    return write_corpus(tmp_path_factory.mktemp("shapes"), 12)


def test_scene_graph_negatives_are_false_of_their_scene_by_construction(shapes_corpus, tmp_path):
    from fgclip.synthetic.shapes import WorldConfig, caption_is_true, scene_from_dict, write_scene_graph_negatives

    cfg = WorldConfig()
    path = write_scene_graph_negatives(tmp_path / "sg.jsonl", shapes_corpus, cfg)
    rows = [json.loads(line) for line in shapes_corpus.read_text().splitlines()]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == sum(len(row["caption"]) for row in rows)
    kinds = set()
    for line in lines:
        row = rows[int(line["key"])]
        scene = scene_from_dict(row["scene"])
        assert line["caption"] in row["caption"] and caption_is_true(scene, line["caption"], cfg)
        assert line["negatives"]
        for negative in line["negatives"]:
            assert negative["source"] == "scene-graph"
            assert not caption_is_true(scene, negative["text"], cfg), negative
            kinds.add(negative["kind"])
    assert kinds == {"relation", "attribute", "object"}
    assert write_scene_graph_negatives(tmp_path / "again.jsonl", shapes_corpus, cfg).read_bytes() == path.read_bytes()


def test_a_false_fraction_replaces_that_share_of_negatives_by_true_captions(shapes_corpus, tmp_path):
    from fgclip.synthetic.shapes import WorldConfig, caption_is_true, scene_from_dict, write_scene_graph_negatives

    cfg = WorldConfig()
    exact = [json.loads(line) for line in
             write_scene_graph_negatives(tmp_path / "exact.jsonl", shapes_corpus, cfg).read_text().splitlines()]
    rows = [json.loads(line) for line in shapes_corpus.read_text().splitlines()]
    shares = {}
    for fraction in (0.25, 1.0):
        path = write_scene_graph_negatives(tmp_path / f"p{fraction}.jsonl", shapes_corpus, cfg, false_fraction=fraction)
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        true = total = 0
        for line, clean in zip(lines, exact):
            scene = scene_from_dict(rows[int(line["key"])]["scene"])
            assert line["caption"] == clean["caption"] and len(line["negatives"]) == len(clean["negatives"])
            for negative, original in zip(line["negatives"], clean["negatives"]):
                # Kind, rule and source kept: the trainer cannot tell a corrupted slot from a real one.
                assert {k: v for k, v in negative.items() if k != "text"} == \
                    {k: v for k, v in original.items() if k != "text"}
                assert negative["text"] != line["caption"]
                if caption_is_true(scene, negative["text"], cfg):
                    true += 1
                else:
                    assert negative["text"] == original["text"]  # an untouched negative is the exact one
                total += 1
        shares[fraction] = true / total
    assert shares[1.0] == 1.0
    assert 0.12 < shares[0.25] < 0.38, shares  # about 140 negatives: a quarter within sampling noise
    with pytest.raises(ValueError, match="false_fraction"):
        write_scene_graph_negatives(tmp_path / "bad.jsonl", shapes_corpus, cfg, false_fraction=1.5)


def test_a_shapes_build_matches_every_scene_graph_entry(shapes_corpus, tmp_path):
    from fgclip.synthetic.shapes import WorldConfig, write_scene_graph_negatives

    path = write_scene_graph_negatives(tmp_path / "sg.jsonl", shapes_corpus, WorldConfig())
    totals = build(shapes_corpus, tmp_path / "shards", no_negatives=True, extra_negatives=(str(path),))
    extra = totals["extra_negatives"]
    assert extra["unmatched"] == 0 and extra["matched"] == extra["entries"] > 0
    assert set(totals["sources"]) == {"scene-graph"}


# The stage settings runs recorded before this session added fields (BuildConfig and TrainConfig
# at commit 981d452, less max_skip_fraction, which is never hashed): a default run must hash
# exactly these, or every recorded workflow reruns.
BUILD_FIELDS_RECORDED = {"input", "output", "format", "image_root", "image_column", "caption_column", "shard_size",
                         "negatives_per_kind", "kinds", "seed", "swaps", "no_negatives", "max_caption_chars", "workers",
                         "address", "executor", "overwrite", "stats", "no_stats"}
TRAIN_FIELDS_RECORDED = {"shards", "output", "model", "pretrained", "epochs", "steps", "batch_size", "lr", "wd", "warmup",
                         "beta1", "beta2", "eps", "imc_weight", "cmr_weight", "cmr_upper", "cmr_fixed_margin", "imc_scope",
                         "no_hard_negatives", "kinds", "skip_rules", "precision", "accum_steps", "workers", "seed",
                         "resume", "save_every", "log_every", "max_bad_steps", "device", "ray_workers",
                         "gpus_per_worker", "address"}


def test_the_shapes_workflow_chooses_its_negatives_and_keeps_its_default_hashes(tmp_path):
    from fgclip import workflow
    from fgclip.config import dump_config
    from fgclip.stages import hashed_settings

    default = workflow.load_workflow_config(output=str(tmp_path / "run"))
    stages = workflow.stage_configs(default)
    assert default.negatives == "generated" and stages["shards"].extra_negatives == ()
    # The settings hashed are those recorded before these fields existed (fgclip.stages.LATER_DEFAULTS).
    hashed = {name: hashed_settings(json.loads(json.dumps(dump_config(stages[name])))) for name in stages}
    assert set(hashed["shards"]) == BUILD_FIELDS_RECORDED
    for name in ("pretrained", "ce", "control"):
        assert set(hashed[name]) == TRAIN_FIELDS_RECORDED
    scene_graph = workflow.stage_configs(workflow.load_workflow_config(output=str(tmp_path / "run"),
                                                                       negatives="scene-graph"))["shards"]
    assert scene_graph.no_negatives and scene_graph.extra_negatives[0].endswith("scene_graph_negatives.jsonl")
    assert "extra_negatives" in hashed_settings(json.loads(json.dumps(dump_config(scene_graph))))
    both = workflow.stage_configs(workflow.load_workflow_config(output=str(tmp_path / "run"), negatives="both"))
    assert not both["shards"].no_negatives and both["shards"].extra_negatives
    with pytest.raises(ValueError, match="negatives must be one of"):
        workflow.load_workflow_config(output=str(tmp_path / "run"), negatives="human")


def test_the_workflow_corpus_stage_writes_the_scene_graph_file(tmp_path):
    from fgclip import workflow
    from fgclip.synthetic.shapes import WorldConfig

    cfg = workflow.load_workflow_config(output=str(tmp_path / "run"), negatives="both", train_images=4,
                                        test_images=2)
    workflow._write_corpus(tmp_path / "corpus", cfg, WorldConfig(**cfg.world))
    lines = (tmp_path / "corpus" / "train" / workflow.SCENE_GRAPH_FILE).read_text().splitlines()
    assert len(lines) == 4 * WorldConfig(**cfg.world).captions_per_image
