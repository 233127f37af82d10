"""Text features computed over a batch's longest caption instead of the whole context.

A caption of COCO tokenizes to 12-20 tokens and is padded to open_clip's context of 77; the
text tower spends most of its time on that padding, five texts an image in training. Under a
causal attention mask no position attends to a later one, so a tower that pools at the
end-of-text token computes the same pooled features from the tokens up to the batch's last
end-of-text position: the padding after it is never seen by what is pooled. The only difference
is float rounding (matrix products of another shape).

open_clip's ``CLIP.encode_text`` adds the whole positional embedding, so it refuses shorter
tokens; :func:`encode_prefix` here runs the same layers with the positional embedding and the
causal mask sliced to the tokens' length (:func:`encode_text` cuts the tokens and calls it). :func:`text_path` decides, per model, whether that
is exact; every other tower (a Hugging Face encoder, no causal mask, a class token, pooling at
the first or last position) keeps open_clip's own full-context path.

Callers keep the tokenizer's full-context output and cut it with :meth:`TextPath.cut`, on the
host before the transfer to the accelerator when they can (it reads the token ids).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

# open_clip's pool types that read the end-of-text position from the token ids.
END_OF_TEXT_POOLING = ("argmax", "eos")


@dataclass(frozen=True)
class TextPath:
    """Whether a model's text tower may run on trimmed tokens, and why (or why not)."""

    trimmed: bool
    reason: str
    pool_type: str = "argmax"
    eos_id: int | None = None

    def row_lengths(self, tokens: torch.Tensor) -> torch.Tensor:
        """Per row, the tokens the tower needs: one past its pooled position (the full width
        when the tower is not trimmed)."""
        if not self.trimmed:
            return torch.full(tokens.shape[:1], tokens.shape[-1], dtype=torch.long, device=tokens.device)
        return end_positions(tokens, self.pool_type, self.eos_id) + 1

    def length(self, tokens: torch.Tensor) -> int:
        """Tokens the tower needs for this batch: one past its last pooled position."""
        if not self.trimmed or tokens.numel() == 0:
            return tokens.shape[-1]
        return int(self.row_lengths(tokens).max())

    def cut(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens`` without the columns no pooled position can see (all of them when the
        tower is not trimmed)."""
        length = self.length(tokens)
        return tokens if length == tokens.shape[-1] else tokens[:, :length]

    def describe(self) -> str:
        if self.trimmed:
            return f"text tower runs at each batch's longest caption ({self.reason})"
        return f"text tower runs at the full context ({self.reason})"


def end_positions(tokens: torch.Tensor, pool_type: str, eos_id: int | None) -> torch.Tensor:
    """Per row, the position the tower pools at, found as open_clip's ``text_global_pool``
    finds it: the first maximal id for 'argmax' (the end-of-text id is the vocabulary's
    largest), the first eos id for 'eos' (position 0 in a row without one)."""
    if pool_type == "eos":
        return (tokens == eos_id).int().argmax(dim=-1)
    return tokens.argmax(dim=-1)


def text_path(model) -> TextPath:
    """How ``model``'s text tower is run: trimmed when that gives open_clip's own features."""
    tower, reason = _trimmable_tower(model)
    if tower is None:
        return TextPath(False, reason)
    _, pool_type, eos_id = tower
    return TextPath(True, f"causal mask, pooled at the end-of-text token ({pool_type})", pool_type, eos_id)


def trims_text(model) -> bool:
    return text_path(model).trimmed


def _trimmable_tower(model):
    """``((module, pool_type, eos_id), reason)``; module is None where trimming is not exact.
    The module holds open_clip's text layers under their usual names."""
    import open_clip
    from open_clip.transformer import TextTransformer

    if isinstance(model, open_clip.CLIP):
        # A subclass that encodes text its own way is not what this module reproduces.
        if type(model).encode_text is not open_clip.CLIP.encode_text:
            return None, f"{type(model).__name__} overrides encode_text"
        module, pool_type, eos_id = model, model.text_pool_type, getattr(model, "text_eos_id", None)
    elif isinstance(model, open_clip.CustomTextCLIP):
        if type(model).encode_text is not open_clip.CustomTextCLIP.encode_text:
            return None, f"{type(model).__name__} overrides encode_text"
        text = model.text
        if type(text) is not TextTransformer:
            return None, f"{type(text).__name__} text tower (only open_clip's own TextTransformer is trimmed)"
        if text.cls_emb is not None:
            # The class token is appended after the padding and attends to all of it.
            return None, "class token appended after the padding"
        if text.use_pad_mask:
            return None, "padding mask"
        if text.output_tokens:
            return None, "the tower returns its tokens too"
        module, pool_type, eos_id = text, text.pool_type, getattr(text, "eos_id", None)
    else:
        return None, f"{type(model).__name__} is not an open_clip CLIP model"
    if module.attn_mask is None:
        return None, "no causal mask: every position sees the padding"
    if pool_type not in END_OF_TEXT_POOLING:
        return None, f"pooled at {pool_type!r}, not at the end-of-text token"
    if pool_type == "eos" and eos_id is None:
        return None, "'eos' pooling without an eos id"
    if module.positional_embedding.shape[0] != module.attn_mask.shape[0]:
        return None, "positional embedding and causal mask of different lengths"
    return (module, pool_type, eos_id), ""


def encode_text(model, tokens: torch.Tensor, normalize: bool = False, path: TextPath | None = None) -> torch.Tensor:
    """``model.encode_text(tokens)``, run on the tokens cut to their longest text when the
    tower allows it (``path``, if given, must be ``text_path(model)``)."""
    path = path or text_path(model)
    if not path.trimmed:
        return model.encode_text(tokens, normalize=normalize)
    return encode_prefix(model, path.cut(tokens), normalize=normalize)


def encode_prefix(model, tokens: torch.Tensor, normalize: bool = False) -> torch.Tensor:
    """open_clip's text encoding of ``tokens`` of any length up to the context, for a model
    :func:`text_path` trims: the same layers, with the positional embedding and the causal mask
    sliced to that length. Exact when no pooled position lies past the end of ``tokens``."""
    tower, reason = _trimmable_tower(model)
    if tower is None:
        raise ValueError(f"the text tower cannot run on trimmed tokens: {reason}")
    return _run_tower(*tower, tokens, normalize)


def _run_tower(module, pool_type: str, eos_id: int | None, tokens: torch.Tensor, normalize: bool) -> torch.Tensor:
    length = tokens.shape[-1]
    cast_dtype = module.transformer.get_cast_dtype()
    x = module.token_embedding(tokens).to(cast_dtype)
    x = x + module.positional_embedding[:length].to(cast_dtype)
    x = module.transformer(x, attn_mask=module.attn_mask[:length, :length])
    x = module.ln_final(x)
    x = x[torch.arange(x.shape[0], device=x.device), end_positions(tokens, pool_type, eos_id)]
    projection = module.text_projection
    if projection is not None:
        x = projection(x) if isinstance(projection, torch.nn.Linear) else x @ projection
    return F.normalize(x, dim=-1) if normalize else x


class TrimmedTextCLIP(torch.nn.Module):
    """``clip``'s forward (image, text) -> features, with the text encoded by
    :func:`encode_prefix`: the caller cuts the tokens (:meth:`TextPath.cut`). One module, so
    that DistributedDataParallel and torch.compile see one forward that uses every parameter."""

    def __init__(self, clip: torch.nn.Module):
        super().__init__()
        path = text_path(clip)
        if not path.trimmed:
            raise ValueError(f"the text tower cannot run on trimmed tokens: {path.reason}")
        self.clip = clip
        # Looked up once: torch.compile traces forward, and the checks import open_clip.
        self.text_in_submodule = clip is not _trimmable_tower(clip)[0][0]
        self.pool_type, self.eos_id = path.pool_type, path.eos_id

    def forward(self, image: torch.Tensor, text: torch.Tensor) -> dict:
        tower = self.clip.text if self.text_in_submodule else self.clip
        output = {
            "image_features": self.clip.encode_image(image, normalize=True),
            "text_features": _run_tower(tower, self.pool_type, self.eos_id, text, normalize=True),
            "logit_scale": self.clip.logit_scale.exp(),
        }
        if getattr(self.clip, "logit_bias", None) is not None:
            output["logit_bias"] = self.clip.logit_bias
        return output
