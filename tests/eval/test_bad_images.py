"""Unreadable benchmark images (empty, corrupt, cut short, a decompression bomb, a FIFO, a
device, a folder, an oversized file) count as missing images: wrong, counted, with a reason."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from fgclip.eval.cases import ImageRef, Selection, Subset, UnreadableImages
from fgclip.eval.encoders import CachedEncoder, ClipEncoder, FeatureCache
from fgclip.eval.run import read_results
from fgclip.eval.scoring import score_subset
from fgclip import images as image_checks

from pipeline.test_bad_images import bomb_png, fifo_unblocked_after, noise_jpeg  # tests/ is on sys.path
from .test_eval_cli import SUBSETS, app_
from .test_run import write_ck
from .test_scoring import StubEncoder, unit

runner = CliRunner()


def drawn_jpeg(path, shade: int) -> bytes:
    Image.new("RGB", (40, 30), (shade, 100, 200)).save(path)
    return path.read_bytes()


# name -> the reason it is unreadable (None: a good image)
IMAGES = {
    "good0.jpg": None, "empty.jpg": "empty_image", "good1.jpg": None, "corrupt.jpg": "unreadable_image",
    "cut.jpg": "truncated_image", "bomb.png": "image_too_many_pixels", "fifo.jpg": "image_not_a_file",
    "zero.jpg": "image_not_a_file", "folder.jpg": "image_not_a_file", "big.jpg": "image_too_large",
    "good2.jpg": None,
}


@pytest.fixture
def bad_benchmark(tmp_path, monkeypatch):
    """A SugarCrepe folder whose 14 cases use the images of IMAGES in turn."""
    root, images = tmp_path / "sugarcrepe", tmp_path / "sugarcrepe" / "images"
    images.mkdir(parents=True)
    drawn_jpeg(images / "good0.jpg", 0)
    drawn_jpeg(images / "good1.jpg", 120)
    drawn_jpeg(images / "good2.jpg", 240)
    (images / "empty.jpg").write_bytes(b"")
    (images / "corrupt.jpg").write_bytes(b"<html>404 not found</html>")
    whole = noise_jpeg(64)  # large enough that half of it is past the header
    (images / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (images / "bomb.png").write_bytes(bomb_png())
    (images / "zero.jpg").symlink_to("/dev/zero")
    (images / "folder.jpg").mkdir()
    (images / "big.jpg").write_bytes(noise_jpeg(600))
    monkeypatch.setattr(image_checks, "MAX_IMAGE_BYTES", len(bomb_png()) + 100)
    names = list(IMAGES)
    used = {}
    for n, stem in enumerate(SUBSETS):
        cases = {}
        for i in range(2):
            name = names[(2 * n + i) % len(names)]
            used.setdefault(stem, []).append(name)
            cases[str(i)] = {"filename": name, "caption": f"a red cube left of a ball {i}",
                             "negative_caption": f"a ball left of a red cube {n}"}
        (root / f"{stem}.json").write_text(json.dumps(cases))
    with fifo_unblocked_after(images / "fifo.jpg", seconds=10):
        yield root, used


@pytest.mark.slow
def test_eval_counts_unreadable_images_as_missing_and_says_why(tmp_path, bad_benchmark):
    data, used = bad_benchmark
    checkpoint = write_ck(tmp_path)
    args = ["eval", "--checkpoint", str(checkpoint), "--name", "tiny", "--benchmark", "sugarcrepe", "--data-root",
            str(data), "--images", str(data / "images"), "--results", str(tmp_path / "results.jsonl"), "--device", "cpu"]
    result = runner.invoke(app_(), args)
    assert result.exit_code == 0, result.output
    rows = {r["subset"]: r for r in read_results(tmp_path / "results.jsonl") if not r["convention"]}
    assert set(rows) == set(SUBSETS)
    for stem, names in used.items():
        assert rows[stem]["n"] == 2
        assert rows[stem]["missing"] == sum(IMAGES[name] is not None for name in names), stem
        if all(IMAGES[name] is not None for name in names):
            assert rows[stem]["value"] == 0.0  # every case wrong
    for name, reason in IMAGES.items():
        if reason is not None:
            assert f"{reason}" in result.output and name in result.output, (name, reason, result.output)
    # The good images were encoded and cached; a rerun scores nothing again and still exits 0.
    again = runner.invoke(app_(), args)
    assert again.exit_code == 0 and "already scored" in again.output


def test_an_image_failing_only_when_decoded_is_counted_too():
    class FailsOnDecode(StubEncoder):
        def encode_images(self, refs):
            if any(ref.path == "b" for ref in refs):
                raise UnreadableImages({"b": "corrupt_image"})
            return super().encode_images(refs)

    encoder = FailsOnDecode({"a": unit(0), "b": unit(90), "c": unit(45)}, {"yes": unit(10), "no": unit(80)})
    subset = Subset("s", [Selection(ImageRef("a"), ("yes", "no")), Selection(ImageRef("b"), ("no", "yes")),
                          Selection(ImageRef("c"), ("yes", "no"))], missing_images=["c"])
    score, = score_subset(subset, encoder)
    assert (score.value, score.n, score.missing) == (pytest.approx(100 / 3), 3, 2)
    assert subset.missing_images == ["c", "b"] and subset.unreadable == {"b": "corrupt_image"}
    assert "b" not in encoder.image_calls


def test_the_encoder_checks_images_before_encoding_any(tmp_path):
    drawn_jpeg(tmp_path / "good.jpg", 10)
    (tmp_path / "empty.jpg").write_bytes(b"")

    class Model(torch.nn.Module):
        calls = 0

        def encode_image(self, pixels, normalize=True):
            Model.calls += 1
            return torch.nn.functional.normalize(pixels.flatten(1)[:, :4], dim=-1)

    encoder = CachedEncoder(ClipEncoder(Model(), lambda image: torch.ones(3, 2, 2), None, batch_size=1),
                            FeatureCache(tmp_path / "cache"))
    refs = [ImageRef(str(tmp_path / "good.jpg")), ImageRef(str(tmp_path / "empty.jpg"))]
    with pytest.raises(UnreadableImages) as caught:
        encoder.encode_images(refs)
    assert caught.value.reasons == {str(tmp_path / "empty.jpg"): "empty_image"} and Model.calls == 0
    assert encoder.encode_images(refs[:1]).shape == (1, 4)


def test_a_npy_frame_is_checked_as_a_file_only(tmp_path):
    import numpy as np

    np.save(tmp_path / "frame.npy", np.zeros((4, 4, 3), dtype="uint8"))
    encoder = ClipEncoder(torch.nn.Identity(), lambda image: torch.ones(3, 2, 2), None)
    with fifo_unblocked_after(tmp_path / "fifo.npy", seconds=5), pytest.raises(UnreadableImages) as caught:
        encoder.encode_images([ImageRef(str(tmp_path / "frame.npy")), ImageRef(str(tmp_path / "fifo.npy"))])
    assert caught.value.reasons == {str(tmp_path / "fifo.npy"): "image_not_a_file"}
