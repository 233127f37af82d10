"""Zero-shot image classification (CLIP, Radford et al. 2021) on an ImageFolder-style directory.

Files read (``--data-root``): ``<data-root>/<class_dir>/<image files>``, as torchvision's
ImageFolder reads it: the class directories in sorted order are the class indices 0, 1, ...;
the images are the files under each (sub-folders included) ending in .jpg, .jpeg, .png, .webp or
.bmp (any case), in sorted order; hidden directories (``.name``) are not classes. ``--images``
is not used: the folder holds the images.

Class names and prompt templates:

- ImageNet-1k: when there are exactly 1,000 class directories and all are WordNet ids
  (``n01440764`` ...), their sorted order is ImageNet's class index order, and the class names and
  templates are CLIP's: open_clip's ``IMAGENET_CLASSNAMES`` (1,000) and
  ``OPENAI_IMAGENET_TEMPLATES`` (80), read from the installed open_clip package. ``classnames.txt``
  and ``templates.txt`` are then ignored, so that "imagenet-1k" always means the standard protocol.
- Any other folder: class names from ``<data-root>/classnames.txt`` (one per line, in the sorted
  class-directory order) if present, else the directory names with underscores read as spaces;
  templates from ``<data-root>/templates.txt`` (one per line, each with a ``{}`` where the class
  name goes) if present, else the 80 OpenAI ImageNet templates.

One subset, named "imagenet-1k" for ImageNet and after the folder otherwise.

Scoring (CLIP's): each class's text embedding is the normalised mean of its templates' normalised
embeddings; top-1 and top-5 accuracy over the images. Those are the reported numbers;
:func:`averages` adds none.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..cases import ClassificationSet, ImageRef, Subset
from . import BenchmarkDataError, Score

NAME = "zeroshot"

EXPECTED = ("an ImageFolder-style directory <data-root>/<class_dir>/<image files> (.jpg .jpeg .png .webp "
            ".bmp), optionally with classnames.txt and templates.txt; ImageNet-1k val as 1,000 WordNet-id "
            "folders (n01440764 ...)")

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")

_WNID = re.compile(r"n\d{8}")


def load(data_root: Path, images: Path | None) -> list[Subset]:
    data_root = Path(data_root)
    if not data_root.is_dir():
        raise BenchmarkDataError(f"zeroshot: {data_root} is not a directory; expected {EXPECTED}")
    class_dirs = sorted(d.name for d in data_root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        raise BenchmarkDataError(f"zeroshot: no class directories in {data_root}; expected {EXPECTED}")

    refs: list[ImageRef] = []
    labels: list[int] = []
    for label, name in enumerate(class_dirs):
        for path in sorted(p for p in (data_root / name).rglob("*")
                           if p.suffix.lower() in EXTENSIONS and p.is_file()):
            refs.append(ImageRef(str(path)))
            labels.append(label)
    if not refs:
        raise BenchmarkDataError(f"zeroshot: no image files (*{', *'.join(EXTENSIONS)}) in the "
                                 f"{len(class_dirs)} class directories of {data_root}; expected {EXPECTED}")

    imagenet = len(class_dirs) == 1000 and all(_WNID.fullmatch(d) for d in class_dirs)
    if imagenet:
        metadata = _open_clip_metadata()
        classnames = tuple(metadata.IMAGENET_CLASSNAMES)
        templates = _openai_templates(metadata)
        sources = ("open_clip IMAGENET_CLASSNAMES", "open_clip OPENAI_IMAGENET_TEMPLATES")
    else:
        classnames, names_from = _classnames(data_root, class_dirs)
        templates, templates_from = _templates(data_root)
        sources = (names_from, templates_from)

    name = "imagenet-1k" if imagenet else data_root.resolve().name
    task = ClassificationSet(tuple(refs), tuple(labels), classnames, templates)
    # The images were listed from disk, so none is missing.
    return [Subset(name, task, [], {"imagenet": imagenet, "classes": len(classnames),
                                    "classnames_from": sources[0], "templates_from": sources[1]})]


def _classnames(data_root: Path, class_dirs: list[str]) -> tuple[tuple[str, ...], str]:
    path = data_root / "classnames.txt"
    if not path.is_file():
        return tuple(d.replace("_", " ") for d in class_dirs), "class directory names"
    names = _lines(path)
    if len(names) != len(class_dirs):
        raise BenchmarkDataError(f"{path}: {len(names)} class names for {len(class_dirs)} class directories "
                                 f"in {data_root}; expected one name per line, in sorted directory order")
    return tuple(names), "classnames.txt"


def _templates(data_root: Path) -> tuple[tuple[str, ...], str]:
    path = data_root / "templates.txt"
    if not path.is_file():
        return _openai_templates(_open_clip_metadata()), "open_clip OPENAI_IMAGENET_TEMPLATES"
    templates = _lines(path)
    if not templates:
        raise BenchmarkDataError(f"{path}: no templates; expected one per line, each with {{}} for the class name")
    for number, template in enumerate(templates, 1):
        if "{}" not in template:
            raise BenchmarkDataError(f"{path}, template {number} ({template!r}): no {{}} for the class name")
    return tuple(templates), "templates.txt"


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BenchmarkDataError(f"{path}: cannot read ({error})") from error
    return [line.strip() for line in text.splitlines() if line.strip()]


def _open_clip_metadata():
    # Imported here, not at module top: open_clip pulls in torch, and folders with their own
    # classnames.txt and templates.txt do not need it.
    try:
        from open_clip import zero_shot_metadata
    except ImportError as error:
        raise BenchmarkDataError(f"zeroshot: the ImageNet class names and OpenAI templates come from open_clip, "
                                 f"which cannot be imported ({error}); install open_clip_torch, or give "
                                 f"classnames.txt and templates.txt") from error
    return zero_shot_metadata


def _openai_templates(metadata) -> tuple[str, ...]:
    # open_clip keeps the templates as functions of the class name (lambda c: f"a photo of a {c}.");
    # called with "{}" they give the format strings ClassificationSet wants.
    return tuple(template("{}") for template in metadata.OPENAI_IMAGENET_TEMPLATES)


def averages(scores: list[Score]) -> list[Score]:
    return []
