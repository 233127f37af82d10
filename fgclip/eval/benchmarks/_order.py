"""COCO-Order and Flickr30k-Order (ARO, Yuksekgonul et al., ICLR 2023): shared code for both.

Each test caption of a Karpathy split becomes one case: the image, the caption, and four versions
of the caption with the words put out of order. A model that reads word order should rank the
caption above its four shuffles. The authors' code is ``dataset_zoo/aro_datasets.py``
(``COCO_Order``, ``Flickr30k_Order``), ``dataset_zoo/perturbations.py`` (``TextShuffler``) and
``dataset_zoo/retrieval.py`` (``pre_caption``) in mertyg/vision-language-models-are-bows.

Files (the first one found in ``--data-root`` is read):

- the authors' file, as their code downloads it (the BLIP/LAVIS test annotations):
  ``coco_karpathy_test.json`` / ``flickr30k_test.json``, a list of
  ``{"image": "val2014/COCO_val2014_....jpg" | "flickr30k-images/<id>.jpg", "caption": [str, ...]}``;
- Karpathy's ``dataset_coco.json`` / ``dataset_flickr30k.json``:
  ``{"images": [{"filepath" (COCO only), "filename", "split", "sentences": [{"raw", ...}]}]}``,
  of which only the images with ``split == "test"`` are used.

Both describe the same test split: COCO 5,000 images (val2014), Flickr30k 1,000 images, with all
of each image's captions (the authors loop over every caption of every test image).

The four perturbations, in the authors' order (``PERTURBATIONS``):

1. ``shuffle_nouns_and_adj``: the nouns (NN, NNS, NNP, NNPS) are permuted among themselves and
   the adjectives (JJ, JJR, JJS) among themselves;
2. ``shuffle_allbut_nouns_and_adj``: every other token (punctuation included) is permuted among
   the others;
3. ``shuffle_within_trigrams``: the tokens are cut into consecutive trigrams (the last may be
   shorter) and each trigram is permuted inside itself;
4. ``shuffle_trigrams``: the same trigrams are put in a random order.

Differences from the authors' code, and why:

- Part-of-speech tags come from textblob's ``PatternTagger`` (the pattern library's lexicon, which
  ships inside the textblob wheel and works offline), not spaCy's ``en_core_web_sm`` (a model that
  would have to be downloaded). The two taggers disagree on some words, so the noun/adjective
  shuffles are not word-for-word those of the paper.
- All perturbations use one tokenization, NLTK's word tokenizer (what the authors use for the
  trigram perturbations; spaCy's tokens for the other two are nearly the same on captions), with
  its directional quote tokens (two backquotes, two apostrophes) turned back into ``"``. The true
  caption is that same token sequence joined by spaces, so the five options differ in word order
  only, never in spacing around punctuation (the authors use ``pre_caption`` of the raw caption,
  which keeps e.g. "man's" where its perturbations have "man 's"; CLIP's tokenizer splits both
  the same way).
- Randomness is seeded per caption and perturbation (``seed_for``), so a caption gets the same
  four shuffles on every run, in every process, whatever the file order; the authors draw from
  the global numpy / random state (``--seed 1``).
- A shuffle is redrawn (up to ``REDRAWS`` times, then a rotation of the permuted tokens is tried)
  when it renders to the true caption itself; a perturbation that cannot differ (one noun and one
  adjective, a one-word caption) is left out of the case. The authors keep such a copy, and
  ``np.argmax`` gives the tie to the first option, the true caption, so the case counts as right
  for that option; leaving it out gives the same result under a scorer for which ties are wrong
  (a case left with the true caption alone is right). On the 4,839 COCO captions of NegCLIP's
  validation file, 16 lose the noun/adjective shuffle this way and none loses all four.

Every option then goes through the authors' ``pre_caption``: lower case, ``.!"()*#:;~`` replaced by
spaces, whitespace collapsed, cut to ``MAX_WORDS`` (30) words (after shuffling, as they do).

Scoring (the authors' ``evaluate_scores``): a case is right when the true caption has the highest
similarity with the image among the options; the reported number is that accuracy over all
captions ("Precision@1").
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..cases import ImageRef, Selection, Subset
from . import BenchmarkDataError, read_json, missing_paths

MAX_WORDS = 30  # the authors' max_words for COCO_Order and Flickr30k_Order
PERTURBATIONS = ("shuffle_nouns_and_adj", "shuffle_allbut_nouns_and_adj", "shuffle_within_trigrams",
                 "shuffle_trigrams")
REDRAWS = 10  # random draws before the deterministic rotations are tried

# Penn Treebank tags, the authors' lists.
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
ADJECTIVE_TAGS = frozenset({"JJ", "JJR", "JJS"})

_PUNCTUATION = re.compile(r'[.!"()*#:;~]')  # the characters pre_caption blanks out


# --- text ---------------------------------------------------------------------------------------

def pre_caption(caption: str, max_words: int = MAX_WORDS) -> str:
    """The authors' caption normalization (``dataset_zoo/retrieval.py``)."""
    words = _PUNCTUATION.sub(" ", caption.lower()).split()
    return " ".join(words[:max_words])


_tokenizer = None
_tagger = None


def tokenize(caption: str) -> list[str]:
    """NLTK's word tokens; its directional quote tokens go back to a plain quote, which
    ``pre_caption`` removes as it removes the quote in the raw caption."""
    global _tokenizer
    if _tokenizer is None:
        # The tokenizer inside nltk.word_tokenize, without its sentence splitter (which needs the
        # punkt data download); a caption is one sentence.
        from nltk.tokenize import NLTKWordTokenizer
        _tokenizer = NLTKWordTokenizer()
    return ['"' if token in ("``", "''") else token for token in _tokenizer.tokenize(caption)]


def pos_tags(tokens: list[str]) -> list[str]:
    """One Penn Treebank tag per token, from textblob's PatternTagger on the given tokens."""
    global _tagger
    if _tagger is None:
        from textblob.en.taggers import PatternTagger
        _tagger = PatternTagger()
    if not tokens:
        return []
    # tokenize=False: the tagger splits on single spaces, and NLTK's tokens hold no whitespace,
    # so it sees exactly these tokens.
    tagged = _tagger.tag(" ".join(tokens), tokenize=False)
    if len(tagged) != len(tokens):
        raise RuntimeError(f"PatternTagger returned {len(tagged)} tags for {len(tokens)} tokens: {tokens!r}")
    return [tag for _, tag in tagged]


def seed_for(perturbation: str, caption: str) -> int:
    """The seed rule: the first 8 bytes of sha256("<perturbation>\\n<raw caption>"), big-endian.
    It depends on nothing but the caption text and the perturbation's name."""
    digest = hashlib.sha256(f"{perturbation}\n{caption}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


# --- the perturbations --------------------------------------------------------------------------

def _render(tokens: list[str]) -> str:
    return pre_caption(" ".join(tokens))


def _permute_groups(tokens: list[str], groups: list[list[int]], rng: random.Random) -> list[str]:
    """The tokens with those at each group of positions permuted among themselves."""
    out = list(tokens)
    for positions in groups:
        values = [tokens[p] for p in positions]
        rng.shuffle(values)
        for p, value in zip(positions, values):
            out[p] = value
    return out


def _rotate_group(tokens: list[str], positions: list[int]) -> list[str]:
    """The tokens with those at ``positions`` moved one place along (the last to the first)."""
    out = list(tokens)
    values = [tokens[p] for p in positions]
    for p, value in zip(positions, values[-1:] + values[:-1]):
        out[p] = value
    return out


def _first_differing(original: str, draw: Callable[[], list[str]], fallbacks: Iterable[list[str]]) -> str | None:
    """A random draw that renders differently from ``original``; failing that, the first fallback
    that does; None when nothing does (the words cannot be reordered into another caption)."""
    for _ in range(REDRAWS):
        text = _render(draw())
        if text != original:
            return text
    for candidate in fallbacks:
        text = _render(candidate)
        if text != original:
            return text
    return None


def _trigram_groups(n: int) -> list[list[int]]:
    """Positions cut into consecutive trigrams, the last one possibly shorter (the authors'
    ``get_trigrams``)."""
    return [list(range(start, min(start + 3, n))) for start in range(0, n, 3)]


def perturb(caption: str, perturbation: str, tokens: list[str] | None = None,
            tags: list[str] | None = None) -> str | None:
    """One perturbation of a raw caption, ``pre_caption``-ed, or None when none differs from the
    true caption. ``tokens``/``tags`` may be passed to avoid tokenizing and tagging again."""
    if perturbation not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {perturbation!r}; known: {', '.join(PERTURBATIONS)}")
    tokens = tokenize(caption) if tokens is None else tokens
    original = _render(tokens)
    rng = random.Random(seed_for(perturbation, caption))

    if perturbation == "shuffle_trigrams":
        chunks = [[tokens[p] for p in group] for group in _trigram_groups(len(tokens))]

        def draw() -> list[str]:
            order = list(chunks)
            rng.shuffle(order)
            return [token for chunk in order for token in chunk]

        if len(chunks) < 2:
            return None
        rotated = [token for chunk in chunks[-1:] + chunks[:-1] for token in chunk]
        return _first_differing(original, draw, [rotated])

    if perturbation == "shuffle_within_trigrams":
        groups = _trigram_groups(len(tokens))
    else:
        tags = pos_tags(tokens) if tags is None else tags
        if perturbation == "shuffle_nouns_and_adj":
            groups = [[i for i, tag in enumerate(tags) if tag in NOUN_TAGS],
                      [i for i, tag in enumerate(tags) if tag in ADJECTIVE_TAGS]]
        else:  # shuffle_allbut_nouns_and_adj
            groups = [[i for i, tag in enumerate(tags) if tag not in NOUN_TAGS | ADJECTIVE_TAGS]]
    groups = [g for g in groups if len(g) > 1]
    if not groups:
        return None
    return _first_differing(original, lambda: _permute_groups(tokens, groups, rng),
                            (_rotate_group(tokens, g) for g in groups))


def perturbations(caption: str) -> dict[str, str | None]:
    """All four perturbations of a raw caption, by name (None where none can differ)."""
    return _tokenized_options(caption)[1]


def options(caption: str) -> tuple[str, ...]:
    """The case's captions: the true one (``pre_caption``-ed tokens) first, then each perturbation
    that differs from it, in the order of ``PERTURBATIONS``."""
    true, shuffled = _tokenized_options(caption)
    return (true, *(text for text in shuffled.values() if text is not None))


def _tokenized_options(caption: str) -> tuple[str, dict[str, str | None]]:
    # Tokenize and tag once for the true caption and all four perturbations (NLTK's tokenizer
    # is the slowest step).
    tokens = tokenize(caption)
    tags = pos_tags(tokens)
    return _render(tokens), {name: perturb(caption, name, tokens, tags) for name in PERTURBATIONS}


# --- the caption files --------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """Where one Order benchmark's files and images are."""

    title: str  # "COCO-Order"
    authors_file: str  # "coco_karpathy_test.json"
    karpathy_file: str  # "dataset_coco.json"
    image_folder: str  # the image folder under --data-root when --images is not given
    keep_subfolder: bool  # COCO: image paths keep "val2014/"; Flickr30k: the file name alone
    image_hint: str  # what the image folder holds, for the error message

    def expected(self) -> str:
        default = "<data-root>" + (f"/{self.image_folder}" if self.image_folder else "")
        return (f"{self.authors_file} (the ARO authors' test annotations) or {self.karpathy_file} (Karpathy's "
                f"split, its test images) in --data-root; images: --images (default {default}) holding "
                f"{self.image_hint}")


def load(layout: Layout, data_root: Path, images: Path | None) -> list[Subset]:
    """One subset, "all": a Selection per test caption."""
    data_root = Path(data_root)
    if (data_root / layout.authors_file).is_file():
        path = data_root / layout.authors_file
        entries = _authors_entries(path, layout)
    elif (data_root / layout.karpathy_file).is_file():
        path = data_root / layout.karpathy_file
        entries = _karpathy_entries(path, layout)
    else:
        raise BenchmarkDataError(f"{layout.title}: neither {layout.authors_file} nor {layout.karpathy_file} found in "
                                 f"{data_root}; expected {layout.expected()}")
    image_root = Path(images) if images is not None else data_root / layout.image_folder
    cases = []
    for image, captions in entries:
        ref = ImageRef(str(image_root / image))
        for k, caption in enumerate(captions):
            cases.append(Selection(ref, options(caption), f"{image}#{k}"))
    missing = missing_paths(case.image.path for case in cases)
    meta = {"source": path.name, "images": len(entries), "perturbations": PERTURBATIONS}
    return [Subset("all", cases, missing, meta)]


def _captions(path: Path, where: str, captions: object) -> list[str]:
    if not isinstance(captions, list) or not captions or not all(isinstance(c, str) and c.strip() for c in captions):
        raise BenchmarkDataError(f"{path}, {where}: expected a non-empty list of non-empty caption strings")
    return captions


def _authors_entries(path: Path, layout: Layout) -> list[tuple[str, list[str]]]:
    """(image path under the image folder, captions) from a BLIP-format annotation list."""
    records = read_json(path)
    if not isinstance(records, list):
        raise BenchmarkDataError(f"{path}: expected a list of {{\"image\", \"caption\"}} records, "
                                 f"got {type(records).__name__}")
    entries = []
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("image"), str) or not record["image"]:
            raise BenchmarkDataError(f"{path}, record {index}: expected an object with a non-empty \"image\" string")
        image = record["image"] if layout.keep_subfolder else PurePosixPath(record["image"]).name
        entries.append((image, _captions(path, f"record {index} \"caption\"", record.get("caption"))))
    return entries


def _karpathy_entries(path: Path, layout: Layout) -> list[tuple[str, list[str]]]:
    """(image path under the image folder, captions) of the test images of a Karpathy split file."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise BenchmarkDataError(f"{path}: expected {{\"images\": [...]}} (Karpathy's split format)")
    entries = []
    for index, record in enumerate(data["images"]):
        if (not isinstance(record, dict) or not isinstance(record.get("split"), str)
                or not isinstance(record.get("filename"), str) or not record["filename"]):
            raise BenchmarkDataError(f"{path}, images[{index}]: expected an object with \"split\" and "
                                     "\"filename\" strings")
        if record["split"] != "test":
            continue
        sentences = record.get("sentences")
        if not isinstance(sentences, list) or not all(isinstance(s, dict) for s in sentences):
            raise BenchmarkDataError(f"{path}, images[{index}]: expected \"sentences\", a list of {{\"raw\", ...}}")
        captions = _captions(path, f"images[{index}] sentences' \"raw\"", [s.get("raw") for s in sentences])
        image = record["filename"]
        if layout.keep_subfolder and record.get("filepath"):
            image = f"{record['filepath']}/{image}"
        entries.append((image, captions))
    return entries
