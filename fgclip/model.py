"""open_clip models by architecture, and fgclip's self-describing checkpoints.

An :class:`Architecture` is an open_clip model name together with the model config it stands
for. Every checkpoint records both, and loading rebuilds the model from the recorded config, so
a model trained as ``ViT-B-32-quickgelu`` can never come back silently as plain ``ViT-B-32``
(the two share every weight and differ only in the activation: the wrong one loses accuracy
without any error).

A checkpoint is one ``torch.save`` file of plain containers and tensors, loaded with
``weights_only=True``, written all or nothing to a local path or a URL (fgclip.files: one upload
on an object store), and read from either. The model's weights sit under ``"state_dict"``, the key open_clip's own
loader looks for, so ``open_clip.create_model_and_transforms(arch, pretrained=checkpoint)``
loads a fgclip checkpoint as it is (:func:`register` first for a custom config).

Used by the trainer and by eval; imports torch and open_clip only when called.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import UsageError
from .files import is_file_at, is_url, local_file, read_bytes_at, write_atomically, write_bytes_at

CHECKPOINT_FORMAT = "fgclip-checkpoint-1"
_REQUIRED_CONFIG_KEYS = ("embed_dim", "vision_cfg", "text_cfg")
_register_lock = threading.Lock()
_registered_dir: Path | None = None


class ModelError(UsageError):
    """An architecture or checkpoint that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Architecture:
    name: str
    config: dict

    @property
    def quick_gelu(self) -> bool:
        return bool(self.config.get("quick_gelu", False))

    def to_dict(self) -> dict:
        return {"name": self.name, "config": self.config}

    @classmethod
    def from_dict(cls, record: Any, source: str = "checkpoint") -> "Architecture":
        if not isinstance(record, dict) or not isinstance(record.get("name"), str) or not isinstance(record.get("config"), dict):
            raise ModelError(f"{source}: 'arch' must be a mapping with 'name' and 'config', got {record!r:.200}")
        return cls(record["name"], record["config"])


def resolve_architecture(model: str) -> Architecture:
    """An open_clip model name (``ViT-B-32-quickgelu``), or the path or URL of a model-config JSON
    in open_clip's format (``{"embed_dim", "vision_cfg", "text_cfg", ...}``; named after its file)."""
    import open_clip

    if model.endswith(".json") or os.sep in model or is_url(model):
        path = model if is_url(model) else Path(model)
        try:
            config = json.loads(read_bytes_at(path).decode("utf-8"))
        except FileNotFoundError:
            raise ModelError(f"model config {path} does not exist") from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ModelError(f"model config {path} is not readable JSON: {err}") from None
        if not isinstance(config, dict):
            raise ModelError(f"model config {path}: expected a JSON object, got {type(config).__name__}")
        missing = [key for key in _REQUIRED_CONFIG_KEYS if key not in config]
        if missing:
            raise ModelError(f"model config {path}: missing key(s) {', '.join(missing)} (open_clip's format)")
        return Architecture(Path(model.rstrip("/").rpartition("/")[2]).stem if is_url(model) else path.stem, config)
    config = open_clip.get_model_config(model)
    if config is None:
        close = [name for name in open_clip.list_models() if model.lower().split("-")[0] in name.lower()][:8]
        hint = f" (similar: {', '.join(close)})" if close else ""
        raise ModelError(f"unknown open_clip model {model!r}{hint}; pass a built-in name or a model-config JSON path")
    return Architecture(model, config)


def register(arch: Architecture) -> None:
    """Make ``arch.name`` known to open_clip with ``arch.config`` (a no-op for built-ins).

    open_clip only builds models by name from its config registry; a custom config is written
    to a private temporary folder that is added to that registry.
    """
    import open_clip

    global _registered_dir
    with _register_lock:
        known = open_clip.get_model_config(arch.name)
        if known is not None:
            if known != arch.config:
                raise ModelError(
                    f"architecture {arch.name!r} is recorded with a config that differs from open_clip's "
                    "model of that name; rename the config file"
                )
            return
        if _registered_dir is None:
            _registered_dir = Path(tempfile.mkdtemp(prefix="fgclip-model-configs-"))
        (_registered_dir / f"{arch.name}.json").write_text(json.dumps(arch.config), encoding="utf-8")
        open_clip.add_model_config(_registered_dir)


def create(arch: Architecture, pretrained: str | None = None, device: str = "cpu"):
    """``(model, train_transform, eval_transform)`` for ``arch``; weights from the file
    ``pretrained`` (an open_clip or fgclip checkpoint; a path or a URL, which is downloaded to a
    temporary file first), else randomly initialised."""
    import open_clip

    if pretrained is not None and not is_file_at(pretrained):
        raise ModelError(f"--pretrained {pretrained}: no such file")
    register(arch)
    # Built first and loaded after, so that a weights file that cannot be read, or does not fit,
    # is told apart from a failure to build the architecture.
    model, train_transform, eval_transform = open_clip.create_model_and_transforms(
        arch.name, pretrained=None, device=device, pretrained_text=False, pretrained_image=False,
    )
    if pretrained is not None:
        with local_file(pretrained) as path:
            try:
                _load_weights(model, arch, str(path))
            except ModelError as err:
                if not is_url(pretrained):
                    raise
                # named as given, not as the temporary download
                raise ModelError(str(err).replace(str(path), pretrained)) from err.__cause__
    return model, train_transform, eval_transform


def _load_weights(model, arch: Architecture, path: str) -> None:
    """``path``'s weights into ``model``; ModelError naming the file, in one line, when they
    cannot be read (a text file, random bytes, a cut download) or do not fit ``arch``."""
    import open_clip

    try:
        scripted = is_torchscript(path)
        state = _torchscript_state(path) if scripted else open_clip.factory.load_state_dict(path)
    except Exception as err:  # noqa: BLE001 - unpickling damaged bytes raises almost any type
        raise ModelError(f"weights file {path} cannot be read: {_one_line(err)}") from err
    try:
        if scripted:
            # A scripted module lists its non-persistent buffers (the causal attn_mask) as state too.
            buffers = {name for name, _ in model.named_buffers()} - set(model.state_dict())
            model.load_state_dict({k: v for k, v in state.items() if k not in buffers})
        else:
            # open_clip's loader converts other layouts (OpenAI's, old text towers) and loads
            # strictly. It reads the file a second time: the read above is what tells a file
            # that is no weights at all from weights of another architecture.
            open_clip.load_checkpoint(model, path)
    except (RuntimeError, KeyError, ValueError, AttributeError) as err:
        raise ModelError(f"weights file {path} does not fit the architecture {arch.name!r}: {_one_line(err)}") from err


def _one_line(err: BaseException, limit: int = 300) -> str:
    """An exception as one short line: torch's messages run over many lines and paragraphs."""
    text = " ".join(str(err).split())
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def is_torchscript(path: str | Path) -> bool:
    """A TorchScript archive (OpenAI's own CLIP files are): a zip with a ``code/`` folder."""
    import zipfile

    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.split("/")[1:2] == ["code"] for name in archive.namelist())


def _torchscript_state(path: str | Path) -> dict:
    """The weights of a TorchScript archive. ``torch.load(weights_only=True)`` refuses these
    archives; ``torch.jit.load`` reads them without unpickling any Python object."""
    import torch

    state = torch.jit.load(str(path), map_location="cpu").state_dict()
    for key in ("input_resolution", "context_length", "vocab_size"):  # OpenAI's extra constants
        state.pop(key, None)
    return state


def tokenizer(arch: Architecture):
    import open_clip

    register(arch)
    made = open_clip.get_tokenizer(arch.name)
    if type(made) is open_clip.tokenizer.SimpleTokenizer and made.clean_fn is open_clip.tokenizer._clean_lower:
        # Two shortcuts that give open_clip's tokens (tests/test_tokenizer.py): together they
        # take tokenizing a caption and its 4 negatives from 0.38 to 0.11 ms, in a loader
        # worker that spends about 2.5 ms a sample.
        made.clean_fn = PlainAsciiShortcut(made.clean_fn)
        made.encode = WordIdCache(made)
    return made


# Printable ASCII but "&", plus tab and newline: text that ftfy.fix_text and html.unescape
# return unchanged (ftfy's fixes need non-ASCII characters, "\r", control characters or "&").
_PLAIN_ASCII = re.compile(r"[\t\n\x20-\x25\x27-\x7e]*")


class PlainAsciiShortcut:
    """open_clip's "lower" text cleaning (ftfy, html.unescape twice, whitespace collapsed, lower
    case), skipping ftfy and html for plain ASCII text, which they leave as it is. ftfy was about a
    third of the tokenizer's time on captions; the tokens are the same (tests/test_tokenizer.py
    compares them on the shared benchmark captions)."""

    def __init__(self, clean: Callable[[str], str]):
        self.clean = clean

    def __call__(self, text: str) -> str:
        if _PLAIN_ASCII.fullmatch(text):
            return " ".join(text.split()).lower()
        return self.clean(text)


class WordIdCache:
    """open_clip's ``SimpleTokenizer.encode`` with the token ids of each word kept: a word's ids
    depend on the word alone, and captions reuse few words. open_clip caches each word's BPE
    merges but still re-encodes its bytes and looks up its ids each time it is seen."""

    MAX_WORDS = 500_000  # about 100 MB at most; captions' vocabularies stay far below it

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.ids: dict[str, list[int]] = {}

    def __call__(self, text: str) -> list[int]:
        t = self.tokenizer
        ids: list[int] = []
        for word in t.pat.findall(t.clean_fn(text)):
            word_ids = self.ids.get(word)
            if word_ids is None:
                as_unicode = "".join(t.byte_encoder[b] for b in word.encode("utf-8"))
                word_ids = [t.encoder[piece] for piece in t.bpe(as_unicode).split(" ")]
                if len(self.ids) < self.MAX_WORDS:
                    self.ids[word] = word_ids
            ids.extend(word_ids)
        return ids


def save_checkpoint(path: str | Path, *, model, arch: Architecture, **state: Any) -> None:
    """Write a checkpoint all or nothing to ``path`` (a local path or a URL): the model's
    weights, its architecture, and ``state`` (optimizer, step, config, ...: anything
    ``torch.load(weights_only=True)`` reads back)."""
    import torch

    record = {"format": CHECKPOINT_FORMAT, "arch": arch.to_dict(), "state_dict": model.state_dict(), **state}
    buffer = io.BytesIO()
    torch.save(record, buffer)
    try:
        if is_url(path):
            write_bytes_at(path, buffer.getvalue())
        else:
            write_atomically(path, buffer.getvalue())
    except OSError as err:
        if err.filename is not None:
            raise
        # A failed write() (a full disk) names no file; the message must.
        raise OSError(err.errno, err.strerror or str(err), str(path)) from err


def read_checkpoint(path: str | Path, map_location: str = "cpu") -> dict:
    """A fgclip checkpoint as saved (a local path, or a URL read whole into memory); ModelError
    naming the file if it is not one."""
    import torch

    path = path if is_url(path) else Path(path)
    if not is_file_at(path):
        raise ModelError(f"checkpoint {path} does not exist")
    try:
        source = io.BytesIO(read_bytes_at(path)) if is_url(path) else path
        record = torch.load(source, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many types for a damaged file
        raise ModelError(f"checkpoint {path} cannot be read ({_one_line(err)})") from None
    if not isinstance(record, dict) or record.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(f"checkpoint {path} is not a fgclip checkpoint (no format {CHECKPOINT_FORMAT!r})")
    record["arch"] = Architecture.from_dict(record.get("arch"), str(path))
    return record


def load_for_inference(path: str | Path, model: str | None = None, device: str = "cpu"):
    """``(arch, model, eval_transform)`` from a fgclip checkpoint, or from a plain open_clip
    weights file when ``model`` names its architecture. A ``model`` that contradicts the
    architecture a fgclip checkpoint records is refused (the QuickGELU trap)."""
    import torch

    path = path if is_url(path) else Path(path)
    try:
        record = read_checkpoint(path)
    except ModelError:
        if model is None:
            raise ModelError(
                f"{path} is not a fgclip checkpoint, so its architecture is unknown: pass --model NAME"
            ) from None
        arch = resolve_architecture(model)
        net, _, transform = create(arch, pretrained=str(path), device=device)
        return arch, net.eval(), transform
    arch = record["arch"]
    if model is not None:
        wanted = resolve_architecture(model)
        if wanted.config != arch.config:
            raise ModelError(
                f"{path} was trained as {arch.name!r} (quick_gelu={arch.quick_gelu}); --model {model} "
                f"(quick_gelu={wanted.quick_gelu}) would load its weights into a different network; drop --model"
            )
    net, _, transform = create(arch, device=device)
    net.load_state_dict(record["state_dict"])
    net.to(torch.device(device))
    return arch, net.eval(), transform
