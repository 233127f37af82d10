"""The tokenizer the trainer and eval use: open_clip's, with a shortcut past ftfy for plain ASCII."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

open_clip = pytest.importorskip("open_clip")

from fgclip import model as model_io  # noqa: E402
from fgclip.pipeline.negatives.measure import load_reference_captions  # noqa: E402

SHARED = Path(os.environ.get("FGCLIP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

# Each is ASCII that ftfy or html.unescape would change, or non-ASCII: none may take the shortcut.
NOT_PLAIN = [
    "fish &amp; chips", "a &lt;b&gt; tag", "R&D lab", "line one\r\nline two", "a bell\x07 rings",
    "an escape \x1b[31mred\x1b[0m", "caf\u00e9 sign", "\u201ccurly quotes\u201d", "\ufb01sh ligature",
    "mojibake \u00e2\u20ac\u201d dash", "a\x0bvertical tab", "null\x00byte",
]
PLAIN = ["A Dog  chasing a cat.", "  two\tpeople\nwalking ", "100% sure: it's #1!", "", "a-b_c/d\\e"]


def test_the_shortcut_is_installed_and_skips_ftfy_for_plain_ascii(monkeypatch):
    tokenizer = model_io.tokenizer(model_io.resolve_architecture("ViT-B-32"))
    assert isinstance(tokenizer.clean_fn, model_io.PlainAsciiShortcut)

    def no_ftfy(text):
        raise AssertionError(f"ftfy called on {text!r}")

    monkeypatch.setattr(open_clip.tokenizer.ftfy, "fix_text", no_ftfy)
    assert tokenizer.clean_fn("A Dog  chasing\ta cat.") == "a dog chasing a cat."
    with pytest.raises(AssertionError, match="ftfy called"):
        tokenizer.clean_fn("caf\u00e9")


@pytest.mark.parametrize("text", NOT_PLAIN + PLAIN)
def test_the_shortcut_cleans_as_open_clip_does(text):
    assert model_io.PlainAsciiShortcut(open_clip.tokenizer._clean_lower)(text) == open_clip.tokenizer._clean_lower(text)


def test_the_same_tokens_as_open_clip_on_the_shared_captions_and_negatives():
    if not (SHARED / "sugarcrepe").is_dir():
        pytest.skip(f"benchmark text not found at {SHARED} (set FGCLIP_SHARED_DATA)")
    texts = [text for group in load_reference_captions(SHARED).values() for text in group]
    for path in sorted((SHARED / "sugarcrepe").glob("*.json")):
        texts += [case["negative_caption"] for case in json.loads(path.read_text(encoding="utf-8")).values()]
    shortcut = model_io.PlainAsciiShortcut(open_clip.tokenizer._clean_lower)
    differing = [t for t in texts if shortcut(t) != open_clip.tokenizer._clean_lower(t)]
    assert len(texts) > 20_000 and differing == []
    assert sum(1 for t in texts if not model_io._PLAIN_ASCII.fullmatch(t)) > 0  # the slow path is exercised too
    ours = model_io.tokenizer(model_io.resolve_architecture("ViT-B-32"))
    assert isinstance(ours.encode, model_io.WordIdCache)
    theirs = open_clip.get_tokenizer("ViT-B-32")
    assert torch.equal(ours(texts), theirs(texts))
    assert torch.equal(ours(texts[::-1]), theirs(texts[::-1]))  # again, from the word cache
    assert len(ours.encode.ids) > 5_000


def test_the_word_cache_stops_growing_at_its_limit_and_still_encodes(monkeypatch):
    monkeypatch.setattr(model_io.WordIdCache, "MAX_WORDS", 3)
    ours = model_io.tokenizer(model_io.resolve_architecture("ViT-B-32"))
    theirs = open_clip.get_tokenizer("ViT-B-32")
    texts = ["one two three four five", "six seven, eight!", "caf\u00e9 &amp; na\u00efve"]
    assert torch.equal(ours(texts), theirs(texts))
    assert len(ours.encode.ids) == 3
