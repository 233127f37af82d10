"""The trainer's shard stream, on tiny shards written here (no model, except one open_clip check)."""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from fgclip.schema import KINDS
from fgclip.trainer import stream as trainer_stream
from fgclip.trainer.normalization import Normalization, images_on, split_normalization
from fgclip.trainer.shard_lists import ShardListError, count_samples, expand_shards
from fgclip.trainer.stream import StreamSettings, TrainStream

L = 8


# ---------------------------------------------------------------------------------------------
# Tiny stand-ins for open_clip's transform and tokenizer (module level: workers may pickle them)


def tiny_preprocess(image: Image.Image) -> torch.Tensor:
    pixels = np.asarray(image.resize((8, 8)), dtype=np.float32) / 255.0
    tensor = torch.from_numpy(pixels).permute(2, 0, 1).contiguous()
    # A random flip and some noise, as a real augmentation would draw: resume must not shift them.
    if torch.rand(()) < 0.5:
        tensor = tensor.flip(-1)
    return tensor + 0.01 * torch.rand(tensor.shape)


def tiny_tokenize(texts: list[str]) -> torch.Tensor:
    out = torch.zeros((len(texts), L), dtype=torch.long)
    for row, text in enumerate(texts):
        ids = [1 + zlib.crc32(word.encode()) % 9973 for word in text.split()][:L]
        out[row, : len(ids)] = torch.tensor(ids)
    return out


TOKENIZED: list[str] = []  # in-process streams only (workers=0)
PREPROCESSED: list[int] = []


def recording_tokenize(texts):
    TOKENIZED.extend(texts)
    return tiny_tokenize(texts)


def counting_preprocess(image):
    PREPROCESSED.append(1)
    return tiny_preprocess(image)


# ---------------------------------------------------------------------------------------------
# Writing shards


def jpeg(seed: int, size: int = 16) -> bytes:
    color = tuple((seed * k * 37) % 256 for k in (1, 3, 7))
    image = Image.new("RGB", (size, size), color)
    ImageDraw.Draw(image).rectangle((2, 2, 2 + seed % 10, 9), fill=(255 - color[0], 40, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def record(key: str, n_captions: int = 2, kinds=KINDS, n_negatives: int = 2) -> dict:
    captions = []
    for c in range(n_captions):
        negatives = [
            {"text": f"{kind} neg{m} of {key} cap{c}", "kind": kind, "rule": "test"}
            for kind in kinds
            for m in range(n_negatives)
        ]
        captions.append({"text": f"caption{c} of item {key}", "negatives": negatives})
    return {"captions": captions, "source": {"format": "test"}}


def rich(key: str, **kw) -> tuple[str, dict[str, bytes]]:
    rec = record(key, **kw)
    return key, {
        "jpg": jpeg(int(key)),
        "txt": rec["captions"][0]["text"].encode(),
        "json": json.dumps(rec).encode(),
    }


def plain(key: str) -> tuple[str, dict[str, bytes]]:
    return key, {"jpg": jpeg(int(key)), "txt": f"plain caption {key}".encode()}


def write_tar(path, samples) -> None:
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for key, files in samples:
            for ext, payload in files.items():
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size, info.mode, info.mtime = len(payload), 0o644, 0
                tar.addfile(info, io.BytesIO(payload))


def write_dataset(folder, shards: list[list], sizes: dict | None = None) -> list[str]:
    """shards[i] -> folder/00000i.tar; sizes.json counts the samples unless given."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, samples in enumerate(shards):
        path = folder / f"{index:06d}.tar"
        write_tar(path, samples)
        paths.append(str(path))
    counts = sizes if sizes is not None else {f"{i:06d}.tar": len(s) for i, s in enumerate(shards)}
    (folder / "sizes.json").write_text(json.dumps(counts))
    return paths


def key(shard: int, index: int) -> str:
    return f"{shard:03d}{index:06d}"


def rich_dataset(folder, sizes: list[int], **kw) -> list[str]:
    return write_dataset(folder, [[rich(key(s, i), **kw) for i in range(n)] for s, n in enumerate(sizes)])


def stream(shards, epoch=0, tokenize=tiny_tokenize, preprocess=tiny_preprocess, **kw) -> TrainStream:
    options = {k: kw.pop(k) for k in ("rank", "world_size", "samples_per_epoch", "skip_batches") if k in kw}
    settings = StreamSettings(**{"batch_size": 2, "workers": 0, "shuffle_buffer": 0, **kw})
    return TrainStream(shards, settings, preprocess=preprocess, tokenize=tokenize, epoch=epoch, **options)


def all_keys(batches) -> list[str]:
    return [k for batch in batches for k in batch["keys"]]


def total_skipped(batches) -> dict[str, int]:
    totals: dict[str, int] = {}
    for batch in batches:
        for reason, count in batch["skipped"].items():
            totals[reason] = totals.get(reason, 0) + count
    return totals


def assert_same_batches(left, right) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right):
        assert a.keys() == b.keys()
        assert a["keys"] == b["keys"] and a["skipped"] == b["skipped"]
        for name in ("image", "text", "neg_text", "neg_mask"):
            if name in a:
                assert torch.equal(a[name], b[name]), name


# ---------------------------------------------------------------------------------------------
# Shard lists and sizes


def test_expand_shards_forms(tmp_path):
    shards = rich_dataset(tmp_path / "a", [1, 1, 1, 1])
    other = rich_dataset(tmp_path / "b", [1])
    a = tmp_path / "a"
    assert expand_shards(f"{a}/{{000000..000002}}.tar") == shards[:3]
    assert expand_shards(f"{a}/{{000002,000000}}.tar") == [shards[2], shards[0]]  # brace order kept
    assert expand_shards(f"{a}/*.tar") == shards
    assert expand_shards(str(a)) == shards  # a directory: its *.tar, sorted
    assert expand_shards(f"{a}/000001.tar::{tmp_path / 'b'}") == [shards[1], other[0]]
    assert expand_shards([shards[3], shards[0]]) == [shards[3], shards[0]]
    # Deduplicated, first occurrence kept.
    assert expand_shards(f"{a}/000003.tar::{a}::{a}/00000[0-1].tar") == [shards[3], *shards[:3]]


def test_expand_shards_errors(tmp_path):
    rich_dataset(tmp_path / "a", [1, 1])
    a = tmp_path / "a"
    with pytest.raises(ShardListError, match="000005.tar"):
        expand_shards(f"{a}/{{000000..000005}}.tar")
    with pytest.raises(ShardListError, match="matches no file"):
        expand_shards(f"{a}/nothing*.tar")
    with pytest.raises(ShardListError, match="not a .tar"):
        expand_shards(f"{a}/sizes.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ShardListError, match="no \\*.tar"):
        expand_shards(str(tmp_path / "empty"))
    with pytest.raises(ShardListError, match="expands to no shard"):
        expand_shards("")
    with pytest.raises(ShardListError, match="pipe:"):
        expand_shards("pipe:aws s3 cp s3://bucket/000000.tar -")
    with pytest.raises(ShardListError, match="000005.tar"):
        expand_shards(f"file://{a}/{{000000..000005}}.tar")
    with pytest.raises(ShardListError, match="nosuchscheme"):
        expand_shards("nosuchscheme://bucket/000000.tar")
    assert issubclass(ShardListError, ValueError)


def test_uri_shards_list_each_folder_once(tmp_path, monkeypatch):
    """On S3 a request per shard would take minutes for a LAION-size list."""
    from fsspec.implementations.local import LocalFileSystem

    shards = rich_dataset(tmp_path / "a", [1] * 6)
    calls = []
    original = LocalFileSystem.ls
    monkeypatch.setattr(LocalFileSystem, "ls", lambda self, path, *a, **k: calls.append(path) or original(self, path, *a, **k))
    monkeypatch.setattr(LocalFileSystem, "isdir", lambda *a, **k: pytest.fail("one request per shard"))
    assert expand_shards(f"file://{tmp_path / 'a'}/{{000000..000005}}.tar") == [f"file://{p}" for p in shards]
    assert len(calls) == 1


def test_uri_shards_read_through_fsspec_like_paths(tmp_path):
    """A scheme:// spec goes through fsspec (s3://, gs://... with their packages installed);
    file:// stands in for them here. Same shards, same counts, same batches as the paths."""
    shards = rich_dataset(tmp_path / "a", [3, 5, 2])
    a = tmp_path / "a"
    uris = [f"file://{path}" for path in shards]
    assert expand_shards(f"file://{a}/{{000000..000002}}.tar") == uris
    assert expand_shards(f"file://{a}/*.tar") == uris
    assert expand_shards(f"file://{a}") == uris  # a folder: its *.tar
    assert count_samples(uris) == count_samples(shards) == 10
    by_path = list(stream(shards, epoch=1, workers=2, shuffle_buffer=3))
    assert_same_batches(by_path, list(stream(expand_shards(f"file://{a}"), epoch=1, workers=2, shuffle_buffer=3)))


def test_count_samples_reads_sizes_json(tmp_path):
    shards = rich_dataset(tmp_path / "a", [3, 5, 2])
    other = rich_dataset(tmp_path / "b", [4])
    assert count_samples(shards) == 10
    assert count_samples(shards[1:] + other) == 11
    (tmp_path / "a" / "sizes.json").write_text(json.dumps({"000000.tar": 3}))
    with pytest.raises(ShardListError, match="2 shard\\(s\\): 000001.tar, 000002.tar"):
        count_samples(shards)
    os.remove(tmp_path / "a" / "sizes.json")
    with pytest.raises(ShardListError, match="sizes.json not found"):
        count_samples(shards)


def test_settings_are_checked():
    with pytest.raises(ValueError):
        StreamSettings(batch_size=0)
    with pytest.raises(ValueError):
        StreamSettings(batch_size=2, kinds=("relation", "colour"))
    with pytest.raises(ValueError, match="skip_rules"):
        StreamSettings(batch_size=2, skip_rules=("swap-np", "swap-everything"))
    assert StreamSettings(batch_size=2, kinds=["object"]).kinds == ("object",)


# ---------------------------------------------------------------------------------------------
# Batches


def test_batch_shapes_and_dtypes(tmp_path):
    shards = rich_dataset(tmp_path, [3, 4])
    s = stream(shards, batch_size=3)
    batches = list(s)
    assert len(batches) == len(s) == 3  # ceil(7 / 3)
    for batch in batches:
        assert batch["image"].shape == (3, 3, 8, 8) and batch["image"].dtype == torch.float32
        assert batch["text"].shape == (3, L) and batch["text"].dtype == torch.long
        assert batch["neg_text"].shape == (3, len(KINDS), L) and batch["neg_text"].dtype == torch.long
        assert batch["neg_mask"].shape == (3, len(KINDS)) and batch["neg_mask"].dtype == torch.bool
        assert batch["neg_mask"].all()
        assert len(batch["keys"]) == 3 and all(isinstance(k, str) for k in batch["keys"])
        assert batch["skipped"] == {}


def test_neg_mask_marks_missing_kinds_and_plain_tars(tmp_path):
    only = rich(key(0, 0), kinds=("relation", "object"))
    img2dataset = (key(1, 0), {"jpg": jpeg(3), "txt": b"a dog", "json": b'{"url": "http://x", "width": 16}'})
    shards = write_dataset(tmp_path, [[only], [plain(key(1, 1)), img2dataset]])

    batch = next(iter(stream([shards[0]], batch_size=1)))
    assert batch["neg_mask"].tolist() == [[True, False, True, False]]
    assert batch["neg_text"][0, 1].eq(0).all() and batch["neg_text"][0, 3].eq(0).all()
    assert batch["neg_text"][0, 0].ne(0).any() and batch["neg_text"][0, 2].ne(0).any()
    # Slot k holds kind settings.kinds[k].
    reordered = next(iter(stream([shards[0]], batch_size=1, kinds=("object", "action", "relation"))))
    assert reordered["neg_mask"].tolist() == [[True, False, True]]
    assert torch.equal(reordered["neg_text"][0, 0], batch["neg_text"][0, 2])
    # Plain tars (no json, or img2dataset's metadata json) train with no negatives.
    plain_batch = next(iter(stream([shards[1]], batch_size=2)))
    assert sorted(plain_batch["keys"]) == [key(1, 0), key(1, 1)]
    assert not plain_batch["neg_mask"].any() and plain_batch["neg_text"].eq(0).all()
    assert plain_batch["skipped"] == {}


def test_skipped_rules_fill_no_slot(tmp_path):
    negatives = [{"text": "a horse riding a man", "kind": "relation", "rule": "swap-np"},
                 {"text": "a man riding a beach", "kind": "relation", "rule": "swap-np"},
                 {"text": "a man feeding a horse", "kind": "action", "rule": "replace-action"}]
    both = {"text": "a man riding a horse near a cat", "negatives": negatives[2:] + [
        {"text": "a cat riding a horse near a man", "kind": "relation", "rule": "swap-obj"},
        {"text": "a horse riding a man near a cat", "kind": "relation", "rule": "swap-np"}]}
    samples = [(key(0, i), {"jpg": jpeg(i), "json": json.dumps({"captions": [caption]}).encode()})
               for i, caption in enumerate([{"text": "a man riding a horse", "negatives": negatives}, both])]
    shards = write_dataset(tmp_path, [samples])
    kinds = ("relation", "action")

    def slots(**kw):
        batch = next(iter(stream(shards, batch_size=2, kinds=kinds, **kw)))
        order = sorted(range(2), key=lambda row: batch["keys"][row])
        return batch["neg_mask"][order].tolist(), batch["neg_text"][order]

    assert slots()[0] == [[True, True], [True, True]]
    mask, texts = slots(skip_rules=("swap-np",))
    # The first caption's relation negatives are all swap-np: its slot is empty, as for an unknown
    # kind; the second's relation slot holds the swap-obj negative, the one left.
    assert mask == [[False, True], [True, True]]
    assert texts[0, 0].eq(0).all()
    assert torch.equal(texts[1, 0], tiny_tokenize(["a cat riding a horse near a man"])[0])
    assert slots(skip_rules=("swap-np", "swap-obj", "replace-action"))[0] == [[False, False], [False, False]]


def test_caption_choice_differs_by_epoch_but_is_reproducible(tmp_path):
    shards = write_dataset(tmp_path, [[rich(key(0, 0), n_captions=5)]])

    def chosen(epoch):
        batch = next(iter(stream(shards, epoch=epoch, batch_size=1)))
        return tuple(batch["text"][0].tolist()), tuple(batch["neg_text"][0].flatten().tolist())

    by_epoch = [chosen(epoch) for epoch in range(8)]
    assert by_epoch == [chosen(epoch) for epoch in range(8)]
    assert len({text for text, _ in by_epoch}) > 1
    assert len({negatives for _, negatives in by_epoch}) > 1


def test_hard_negatives_off_omits_them_and_never_tokenizes_them(tmp_path):
    shards = rich_dataset(tmp_path, [4])
    TOKENIZED.clear()
    off = list(stream(shards, hard_negatives=False, tokenize=recording_tokenize))
    assert all("neg_text" not in b and "neg_mask" not in b for b in off)
    assert TOKENIZED and not any(" neg" in text for text in TOKENIZED)
    # The control run sees the very captions of the hard-negative run.
    on = list(stream(shards))
    assert [b["text"].tolist() for b in off] == [b["text"].tolist() for b in on]


# ---------------------------------------------------------------------------------------------
# Splitting an epoch


def test_two_ranks_see_every_sample_once(tmp_path):
    shards = rich_dataset(tmp_path, [6, 6, 6, 6])
    ranks = [stream(shards, epoch=2, batch_size=3, workers=2, shuffle_buffer=4, rank=r, world_size=2) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 4
    seen = [all_keys(list(r)) for r in ranks]
    assert len(seen[0]) == len(seen[1]) == 12
    assert sorted(seen[0] + seen[1]) == sorted(key(s, i) for s in range(4) for i in range(6))


def test_workers_yield_equal_batches_from_uneven_shards(tmp_path):
    shards = rich_dataset(tmp_path, [10, 3, 2])
    s = stream(shards, workers=2, shuffle_buffer=3)
    batches = list(s)
    assert len(s) == len(batches) == 8  # ceil(15 / 2) = 8, a multiple of 2 workers
    # Batch j comes from worker j % 2: its keys lie in that worker's shards.
    shard_of = {key(i, n): shard for i, shard in enumerate(shards) for n in range(10)}
    for j, batch in enumerate(batches):
        assert {shard_of[k] for k in batch["keys"]} <= set(s.worker_shards[j % 2])
    # The worker holding fewer than 8 samples went round its shards again to give its 4 batches.
    size = {shard: n for shard, n in zip(shards, [10, 3, 2])}
    small = min((0, 1), key=lambda w: sum(size[shard] for shard in s.worker_shards[w]))
    assert sum(size[shard] for shard in s.worker_shards[small]) < 8
    assert len(all_keys(batches[small::2])) == 8 > len(set(all_keys(batches[small::2])))


def test_fewer_shards_than_workers_share_shards_and_warn(tmp_path, caplog):
    shards = rich_dataset(tmp_path, [4])
    trainer_stream._warned.clear()
    with caplog.at_level(logging.WARNING, logger=trainer_stream.__name__):
        s = stream(shards, workers=2)
    assert "1 shards cannot feed 2 workers x 1 ranks" in caplog.text
    assert s.worker_shards == [shards, shards]
    assert len(list(s)) == len(s) == 2


def test_same_inputs_give_same_batches(tmp_path):
    shards = rich_dataset(tmp_path, [5, 3, 7])
    first = list(stream(shards, epoch=1, workers=2, shuffle_buffer=5))
    assert_same_batches(first, list(stream(shards, epoch=1, workers=2, shuffle_buffer=5)))
    other_epoch = list(stream(shards, epoch=2, workers=2, shuffle_buffer=5))
    assert all_keys(first) != all_keys(other_epoch)


# ---------------------------------------------------------------------------------------------
# Bad data: skipped, counted, never fatal


@pytest.mark.parametrize("cut", ["mid-member", "block-boundary"])
def test_bad_samples_and_truncated_tar_are_skipped_and_counted(tmp_path, cut):
    good = [rich(key(0, i)) for i in range(4)]
    broken_header = (key(0, 10), {**rich(key(0, 10))[1], "jpg": b"not a jpeg at all"})
    broken_body = (key(0, 11), {**rich(key(0, 11))[1], "jpg": jpeg(11)[:-40]})  # header parses, decode fails
    bad_json = (key(0, 12), {**rich(key(0, 12))[1], "json": b'{"captions": [{"text": '})
    no_caption = (key(0, 13), {"jpg": jpeg(13), "txt": b"  ", "json": b'{"captions": [{"text": ""}]}'})
    no_image = (key(0, 14), {"txt": b"a caption", "json": json.dumps(record(key(0, 14))).encode()})
    shard_a = [good[0], broken_header, good[1], bad_json, good[2], broken_body, no_caption, no_image, good[3]]
    shard_b = [rich(key(1, i)) for i in range(6)]
    shard_c = [rich(key(2, i)) for i in range(4)]
    shards = write_dataset(tmp_path, [shard_a, shard_b, shard_c])
    # Break shard b inside its 4th sample: 3 samples survive, 3 are lost.
    with tarfile.open(shards[1]) as tar:
        members = tar.getmembers()
    fourth, fifth = members[3 * 3], members[4 * 3]
    end = fourth.offset_data + 10 if cut == "mid-member" else fifth.offset
    with open(shards[1], "r+b") as f:
        f.truncate(end)

    s = stream(shards, batch_size=1, samples_per_epoch=12)  # 11 good samples: one whole pass, then 1 more
    batches = list(s)
    assert len(batches) == 12
    expected = {key(0, i) for i in range(4)} | {key(1, i) for i in range(3)} | {key(2, i) for i in range(4)}
    assert set(all_keys(batches[:11])) == expected and set(all_keys(batches)) == expected
    assert total_skipped(batches) == {
        "corrupt_image": 2, "bad_json": 1, "no_caption": 1, "missing_image": 1, "truncated_shard": 3,
    }


def test_missing_shard_at_iteration_is_counted(tmp_path):
    shards = rich_dataset(tmp_path, [4, 4])
    s = stream(shards)
    os.remove(shards[0])
    batches = list(s)
    assert len(batches) == 4  # 8 samples by sizes.json, all from the shard that is left
    assert set(all_keys(batches)) == {key(1, i) for i in range(4)}
    assert total_skipped(batches)["missing_shard"] >= 4  # counted in samples, per pass
    os.remove(shards[1])
    with pytest.raises(RuntimeError, match="usable sample"):
        list(stream(shards))


# ---------------------------------------------------------------------------------------------
# Resume


@pytest.mark.parametrize("skip", [3, 8])
def test_skip_batches_gives_the_rest_of_the_unskipped_stream(tmp_path, skip):
    shards = rich_dataset(tmp_path, [5, 3, 7, 4, 6])
    options = dict(epoch=1, workers=2, shuffle_buffer=4)
    full = list(stream(shards, **options))
    assert len(full) == 14  # ceil(25 / 2) = 13, rounded up to 2 workers
    resumed = stream(shards, skip_batches=skip, **options)
    assert len(resumed) == 14 - skip
    assert_same_batches(list(resumed), full[skip:])


def test_skipped_batches_are_not_decoded(tmp_path):
    shards = rich_dataset(tmp_path, [5, 7])
    full = list(stream(shards, shuffle_buffer=3))
    PREPROCESSED.clear()
    resumed = list(stream(shards, shuffle_buffer=3, skip_batches=4, preprocess=counting_preprocess))
    assert len(PREPROCESSED) == 2 * 2  # 6 batches of 2, the first 4 passed over undecoded
    assert_same_batches(resumed, full[4:])


# ---------------------------------------------------------------------------------------------
# With open_clip's own transform and tokenizer


def test_fits_open_clip_transform_and_tokenizer(tmp_path):
    open_clip = pytest.importorskip("open_clip")
    shards = rich_dataset(tmp_path, [3])
    s = stream(
        shards,
        preprocess=open_clip.image_transform(32, is_train=True),
        tokenize=open_clip.get_tokenizer("ViT-B-32"),
    )
    batch = next(iter(s))
    # open_clip's transform ends in ToTensor + Normalize: the workers send uint8, the consumer normalises
    assert batch["image"].shape == (2, 3, 32, 32) and batch["image"].dtype == torch.uint8
    assert images_on(batch, "cpu").dtype == torch.float32
    assert batch["text"].shape == (2, 77) and batch["text"].dtype == torch.long
    assert batch["neg_text"].shape == (2, len(KINDS), 77) and batch["neg_mask"].all()


@pytest.mark.parametrize("workers", [0, 1])
def test_deferred_normalization_equals_the_whole_transform_bit_for_bit(tmp_path, workers):
    open_clip = pytest.importorskip("open_clip")
    shards = rich_dataset(tmp_path, [3, 3])
    transform = open_clip.image_transform(32, is_train=True)  # random crops: seeded per sample

    def images(defer: bool) -> torch.Tensor:
        s = stream(shards, preprocess=transform, workers=workers, defer_normalize=defer, batch_size=3)
        return torch.cat([images_on(batch, "cpu") for batch in s])

    whole, deferred = images(False), images(True)
    assert whole.dtype == deferred.dtype == torch.float32
    assert torch.equal(whole, deferred)
    assert whole.min() < -1 and whole.max() > 1  # normalised values, not [0, 1]


def test_split_normalization_only_takes_totensor_then_normalize():
    from torchvision import transforms as T

    steps, normalization = split_normalization(
        T.Compose([T.CenterCrop(4), T.ToTensor(), T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5))]))
    assert normalization == Normalization((0.5, 0.4, 0.3), (0.2, 0.25, 0.5))
    assert [type(step) for step in steps.transforms] == [T.CenterCrop]
    for other in (T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.2,), inplace=True)]),  # would write in place
                  T.Compose([T.ToTensor(), T.CenterCrop(4)]),
                  tiny_preprocess):
        assert split_normalization(other) == (other, None)


def test_a_transform_that_ends_in_a_non_rgb_image_is_counted_not_sent(tmp_path):
    from torchvision import transforms as T

    shards = rich_dataset(tmp_path, [2])
    grey = T.Compose([T.Resize(8), T.Grayscale(), T.ToTensor(), T.Normalize((0.5,), (0.2,))])
    s = stream(shards, preprocess=grey, batch_size=1)
    with pytest.raises(RuntimeError, match="decodes"):  # every sample dropped as a preprocess error
        list(s)
