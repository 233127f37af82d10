"""What the benchmarks are made of, whatever their file formats: four task types, one scorer each.

- :class:`Selection`: one image, several captions, the first is the true one (SugarCrepe, VALSE,
  VL-CheckList, ARO and the Order sets). Correct when the true caption scores strictly highest.
- :class:`Group`: two images and two captions that match crosswise (Winoground, EqBen): text,
  image and group scores.
- :class:`RetrievalSet`: images and captions, each caption naming its image (Karpathy splits).
- :class:`ClassificationSet`: images with class labels, class names and prompt templates.

A benchmark module turns its published files into these, subset by subset; the scorers in
``scoring.py`` never see a file format, and the encoders never see a benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImageRef:
    """An image file, optionally cropped to a box (x, y, width, height in pixels: ARO's VG crops)."""

    path: str
    box: tuple[float, float, float, float] | None = None

    def key(self) -> str:
        return self.path if self.box is None else f"{self.path}#{','.join(f'{v:g}' for v in self.box)}"


@dataclass(frozen=True)
class Selection:
    image: ImageRef
    captions: tuple[str, ...]  # captions[0] is the true one
    case_id: str = ""


@dataclass(frozen=True)
class Group:
    images: tuple[ImageRef, ImageRef]
    captions: tuple[str, str]  # captions[i] describes images[i]
    case_id: str = ""


@dataclass(frozen=True)
class RetrievalSet:
    images: tuple[ImageRef, ...]
    captions: tuple[str, ...]
    caption_image: tuple[int, ...]  # caption j describes images[caption_image[j]]


@dataclass(frozen=True)
class ClassificationSet:
    images: tuple[ImageRef, ...]
    labels: tuple[int, ...]
    classnames: tuple[str, ...]
    templates: tuple[str, ...]  # "a photo of a {}."


@dataclass
class Subset:
    """One subset of a benchmark as its authors split it (a file, an instrument, a relation)."""

    name: str
    task: object  # list[Selection] | list[Group] | RetrievalSet | ClassificationSet
    missing_images: list[str] = field(default_factory=list)  # referenced but absent: counted, never dropped silently
    meta: dict = field(default_factory=dict)  # e.g. {"category": "replace"} for the averages
    # Images present but unusable (empty, corrupt, a FIFO...), found while scoring: path ->
    # reason. Each is in missing_images too, and is counted as one.
    unreadable: dict[str, str] = field(default_factory=dict)

    def missing_summary(self, examples: int = 3) -> str:
        """'3 image(s) missing or unreadable: missing_image 1 (a.jpg), empty_image 2 (b.jpg, c.jpg)',
        naming the first ``examples`` images of each reason."""
        by_reason: dict[str, list[str]] = {}
        for path in self.missing_images:
            by_reason.setdefault(self.unreadable.get(path, "missing_image"), []).append(path)
        return f"{len(self.missing_images)} image(s) missing or unreadable: " + ", ".join(
            f"{reason} {len(paths)} ({', '.join(paths[:examples])}{', ...' if len(paths) > examples else ''})"
            for reason, paths in sorted(by_reason.items(), key=lambda item: -len(item[1])))


class UnreadableImages(Exception):
    """Raised by an encoder, before it encodes the images it was given, for those it cannot read:
    ``reasons`` maps each one's path to why (the reasons of fgclip.images)."""

    def __init__(self, reasons: dict[str, str]):
        super().__init__(", ".join(f"{path}: {reason}" for path, reason in reasons.items()))
        self.reasons = reasons
