"""The shards as other tools read them: webdataset, open_clip's training loader, img2dataset."""

from __future__ import annotations

import io
import json
import tarfile
from argparse import Namespace
from pathlib import Path

import pytest

from fgclip.config import BuildConfig
from fgclip.pipeline.build import build_negatives

from .corpus import captions, jpeg_bytes, write_jsonl_corpus

# webdataset and open_clip_train leave tar and sizes.json handles to the garbage collector.
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def build(corpus: Path, output: Path, **options) -> dict:
    return build_negatives(BuildConfig(input=str(corpus), output=str(output), executor="local", **options),
                           echo=lambda line: None)


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("interop")
    output = folder / "shards"
    build(write_jsonl_corpus(folder / "corpus", 30), output, shard_size=8)
    return output


def test_webdataset_reads_jpg_txt_json(shards):
    import webdataset as wds

    urls = sorted(str(p) for p in shards.glob("*.tar"))
    samples = list(wds.WebDataset(urls, shardshuffle=False).decode("pil"))
    assert len(samples) == 30
    first = samples[0]
    assert first["__key__"] == "000000000"
    assert first["jpg"].size == (24, 24)
    assert first["txt"] == captions()[0]
    assert first["json"]["captions"][0]["text"] == first["txt"]
    assert {n["kind"] for s in samples for n in s["json"]["captions"][0]["negatives"]} <= {
        "relation", "attribute", "object", "action"}


def test_open_clip_training_loader_reads_the_shards(shards):
    pytest.importorskip("open_clip_train")
    import open_clip
    from open_clip_train.data import get_dataset_size, get_wds_dataset
    from torchvision import transforms

    pattern = str(shards / "{000000..000003}.tar")
    assert get_dataset_size(pattern) == (30, 4)
    args = Namespace(
        train_data=pattern, val_data=None, train_num_samples=None, train_data_upsampling_factors=None,
        dataset_resampled=False, seed=0, batch_size=5, workers=0, world_size=1,
    )
    preprocess = transforms.Compose([transforms.Resize(16), transforms.ToTensor()])
    data = get_wds_dataset(args, preprocess, is_train=True, tokenizer=open_clip.get_tokenizer("RN50"))
    batches = list(data.dataloader)
    assert data.dataloader.num_samples == 30 and len(batches) == 6
    images, texts = batches[0]
    assert tuple(images.shape) == (5, 3, 16, 16) and tuple(texts.shape) == (5, 77)


def img2dataset_shard(path: Path, n: int, start: int = 0) -> list[tuple[str, bytes, str]]:
    """A tar laid out as img2dataset writes one; returns (key, image bytes, caption) per sample."""
    texts = captions()
    written = []
    with tarfile.open(path, "w") as tar:
        for i in range(start, start + n):
            key = f"{i:09d}"
            image, caption = jpeg_bytes(100 + i), texts[i % len(texts)]
            meta = {"url": f"https://example.com/{i}.jpg", "caption": caption, "key": key, "status": "success",
                    "width": 24, "height": 24}
            for name, data in ((f"{key}.jpg", image), (f"{key}.txt", caption.encode()),
                               (f"{key}.json", json.dumps(meta).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            written.append((key, image, caption))
    return written


def read_shards(folder: Path) -> dict[str, tuple[bytes, dict]]:
    """source key -> (image bytes, json record), over every tar in ``folder``."""
    found = {}
    for tar_path in sorted(folder.glob("*.tar")):
        with tarfile.open(tar_path) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        for name, data in members.items():
            if name.endswith(".json"):
                record = json.loads(data)
                found[record["source"]["key"]] = (members[name.replace(".json", ".jpg")], record)
    return found


def test_img2dataset_shards_round_trip(tmp_path):
    source = tmp_path / "img2dataset"
    source.mkdir()
    expected = img2dataset_shard(source / "00000.tar", 6) + img2dataset_shard(source / "00001.tar", 5, start=6)
    (source / "00000.parquet").write_bytes(b"PAR1")  # img2dataset's side files are not input
    (source / "00000_stats.json").write_text("{}")
    output = tmp_path / "out"
    totals = build(source, output, shard_size=4)
    assert totals["written"] == 11 and totals["skipped"] == {}
    found = read_shards(output)
    assert sorted(found) == [key for key, _, _ in expected]
    for key, image, caption in expected:
        assert found[key][0] == image
        assert found[key][1]["captions"][0]["text"] == caption


def test_resharding_fgclip_shards_keeps_every_caption(tmp_path):
    (tmp_path / "val").mkdir()
    texts = captions()
    images = [{"id": i, "file_name": f"{i}.jpg"} for i in range(4)]
    annotations = [{"image_id": i, "caption": texts[(i + n) % len(texts)]} for i in range(4) for n in range(3)]
    for i in range(4):
        (tmp_path / "val" / f"{i}.jpg").write_bytes(jpeg_bytes(i))
    (tmp_path / "captions.json").write_text(json.dumps({"images": images, "annotations": annotations}))
    first = tmp_path / "first"
    build(tmp_path / "captions.json", first, image_root=str(tmp_path / "val"), no_negatives=True)
    second = tmp_path / "second"
    totals = build(first, second, shard_size=3)
    assert totals["written"] == 4 and totals["captions"] == 12
    for key, (image, record) in read_shards(second).items():
        i = int(key)
        assert image == jpeg_bytes(i)
        assert [c["text"] for c in record["captions"]] == [texts[(i + n) % len(texts)] for n in range(3)]
