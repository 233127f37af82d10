"""``--negative-sources``: the training stream fills slots only with negatives of the chosen sources."""

from __future__ import annotations

import json

import pytest

from fgclip.config import TrainConfig
from fgclip.schema import KINDS
from fgclip.trainer.stream import StreamSettings, TrainStream

from .test_data import jpeg, tiny_preprocess, tiny_tokenize, write_dataset

SOURCES = ("generated", "human")


def two_source_sample(index: int) -> tuple[str, dict[str, bytes]]:
    """One caption whose every kind has a negative from fgclip's rules (written as shards from
    before sources existed: no ``source`` key) and one labelled ``human``."""
    key = f"{index:09d}"
    negatives = []
    for kind in KINDS:
        negatives.append({"text": f"generated {kind} {key}", "kind": kind, "rule": "replace-rel"})
        negatives.append({"text": f"human {kind} {key}", "kind": kind, "rule": "imported", "source": "human"})
    record = {"captions": [{"text": f"caption of {key}", "negatives": negatives}], "source": {"format": "test"}}
    return key, {"jpg": jpeg(index), "txt": record["captions"][0]["text"].encode(), "json": json.dumps(record).encode()}


class Recorder:
    def __init__(self):
        self.texts: list[str] = []

    def __call__(self, texts):
        self.texts.extend(texts)
        return tiny_tokenize(texts)


def negatives_seen(tmp_path, sources) -> set[str]:
    shards = write_dataset(tmp_path / "shards", [[two_source_sample(i) for i in range(12)]])
    recorder = Recorder()
    settings = StreamSettings(batch_size=4, workers=0, shuffle_buffer=0, negative_sources=sources)
    # Several epochs: each draws again among a slot's candidates.
    for epoch in range(4):
        for batch in TrainStream(shards, settings, preprocess=tiny_preprocess, tokenize=recorder, epoch=epoch):
            assert batch["neg_mask"].all()  # every kind still has a candidate of each chosen source
    return {text.split()[0] for text in recorder.texts if not text.startswith("caption")}


@pytest.mark.parametrize("sources, expected", [
    (("generated",), {"generated"}),
    (("human",), {"human"}),
    (None, {"generated", "human"}),
    (("generated", "human"), {"generated", "human"}),
])
def test_stream_yields_only_negatives_of_the_chosen_sources(tmp_path, sources, expected):
    assert negatives_seen(tmp_path, sources) == expected


def test_a_source_no_negative_has_leaves_every_slot_empty(tmp_path):
    shards = write_dataset(tmp_path / "shards", [[two_source_sample(i) for i in range(4)]])
    settings = StreamSettings(batch_size=4, workers=0, shuffle_buffer=0, negative_sources=("negclip",))
    (batch,) = TrainStream(shards, settings, preprocess=tiny_preprocess, tokenize=tiny_tokenize, epoch=0)
    assert not batch["neg_mask"].any()


@pytest.mark.parametrize("bad", [("",), ("generated", "  "), (3,), ()])
def test_source_names_must_be_non_empty_strings(bad):
    with pytest.raises(ValueError, match="negative_sources"):
        StreamSettings(batch_size=2, negative_sources=bad)
    with pytest.raises(ValueError, match="negative_sources"):
        TrainConfig(shards="s", output="o", negative_sources=bad)


def test_train_config_passes_the_sources_as_a_tuple():
    assert TrainConfig(shards="s", output="o").negative_sources is None
    assert TrainConfig(shards="s", output="o", negative_sources=["generated"]).negative_sources == ("generated",)
