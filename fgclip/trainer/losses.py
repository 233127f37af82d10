"""The CE-CLIP training losses: ITC with hard negatives, intra-modal contrast (IMC) and
cross-modal rank with adaptive per-kind margins (CMR).

Notation used in the docstrings: a global batch of N images ``I_i`` with captions ``T_i``;
caption i has K hard-negative slots ``T_i^k`` (slot k is one negative kind) with validity mask
``m_ik``; ``s`` is the *exponentiated* logit scale, as open_clip's model returns it; ``<a, b>``
is the dot product. Features arrive L2-normalised and are used as given.

The functions see the whole global batch: in distributed training the caller gathers the
features first (with gradient), so that every hard negative competes with every image.

Every loss is computed in float32 at least (float64 stays float64, for gradcheck), with
autocast switched off inside, so bf16 features handed over from an autocast region do not
round the logits to bf16. A masked negative slot is replaced by zeros before any arithmetic
and its logits by -inf, so whatever it holds (even NaN) reaches neither the value nor the
gradients.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..config import IMC_SCOPES  # which hard negatives IMC's denominator holds

__all__ = [
    "itc_loss",
    "imc_loss",
    "cmr_loss",
    "kind_margins",
    "kind_diagnostics",
    "LossSettings",
    "CompositionLoss",
]


# --------------------------------------------------------------------------- helpers


def _compute_dtype(*tensors: Tensor) -> torch.dtype:
    # float64 only when asked for (gradcheck); anything narrower is widened to float32.
    return torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32


def _no_autocast(device: torch.device):
    try:
        return torch.autocast(device_type=device.type, enabled=False)
    except RuntimeError:  # a device type autocast does not know has no autocast to leave
        return contextlib.nullcontext()


def _scale(logit_scale: Tensor | float, like: Tensor) -> Tensor:
    return torch.as_tensor(logit_scale, device=like.device).to(like.dtype)


def _check_pair(image: Tensor, text: Tensor) -> None:
    if image.dim() != 2 or image.shape != text.shape:
        raise ValueError(
            f"image and text features must both be [N, D]; got {tuple(image.shape)} and {tuple(text.shape)}"
        )


def _negatives(
    text: Tensor, neg_text: Tensor, neg_mask: Tensor | None, dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """(negatives with masked slots zeroed, boolean mask [N, K]) in ``dtype``."""
    n, d = text.shape
    if neg_text.dim() != 3 or neg_text.shape[0] != n or neg_text.shape[2] != d:
        raise ValueError(f"neg_text must be [N, K, D] = [{n}, K, {d}]; got {tuple(neg_text.shape)}")
    if neg_mask is None:
        mask = torch.ones(neg_text.shape[:2], dtype=torch.bool, device=neg_text.device)
    else:
        if tuple(neg_mask.shape) != tuple(neg_text.shape[:2]):
            raise ValueError(
                f"neg_mask must be [N, K] = {list(neg_text.shape[:2])}; got {tuple(neg_mask.shape)}"
            )
        mask = neg_mask.to(device=neg_text.device, dtype=torch.bool)
    # torch.where, not a multiplication: 0 * NaN is NaN, and the backward of where sends
    # exactly zero to the slots it did not pick.
    zero = torch.zeros((), dtype=dtype, device=neg_text.device)
    neg = torch.where(mask.unsqueeze(-1), neg_text.to(dtype), zero)
    return neg, mask


def _prepared(image: Tensor, text: Tensor, logit_scale, neg_text: Tensor, neg_mask: Tensor | None):
    """(image, text, s, negatives, mask) checked and widened to the compute dtype; the caller
    holds autocast off around this and the arithmetic after it."""
    _check_pair(image, text)
    dtype = _compute_dtype(image, text, neg_text)
    img, txt = image.to(dtype), text.to(dtype)
    neg, mask = _negatives(text, neg_text, neg_mask, dtype)
    return img, txt, _scale(logit_scale, img), neg, mask


def _masked_mean(values: Tensor, mask: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """(mean of ``values`` over the True entries along ``dim``, their count); 0/0 gives NaN."""
    count = mask.sum(dim)
    total = torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device)).sum(dim)
    return total / count.to(values.dtype), count


# --------------------------------------------------------------------------- losses


def itc_loss(
    image: Tensor,
    text: Tensor,
    logit_scale: Tensor,
    neg_text: Tensor | None = None,
    neg_mask: Tensor | None = None,
) -> Tensor:
    """Image-text contrastive loss with hard negatives on the text side (as in NegCLIP).

        L_itc = ( CE(s * I @ [T; T_neg]^T, diag) + CE(s * T @ I^T, diag) ) / 2

    ``T_neg`` holds every valid hard negative of the global batch (all N*K slots, the masked
    ones with logit -inf), so each image must pick its caption out of all N captions and all
    valid negatives; the text-to-image side is plain CLIP. CE is the mean cross-entropy over
    the N rows. With ``neg_text`` None this is open_clip's single-process ``ClipLoss``.

    Shapes: image, text [N, D]; neg_text [N, K, D]; neg_mask [N, K] bool (None: all valid).
    """
    _check_pair(image, text)
    dtype = _compute_dtype(image, text, *(() if neg_text is None else (neg_text,)))
    with _no_autocast(image.device):
        img, txt = image.to(dtype), text.to(dtype)
        s = _scale(logit_scale, img)
        logits_i2t = s * img @ txt.T
        if neg_text is not None:
            neg, mask = _negatives(text, neg_text, neg_mask, dtype)
            neg_logits = s * img @ neg.reshape(-1, neg.shape[-1]).T
            neg_logits = neg_logits.masked_fill(~mask.reshape(1, -1), float("-inf"))
            logits_i2t = torch.cat([logits_i2t, neg_logits], dim=1)
        logits_t2i = s * txt @ img.T
        labels = torch.arange(img.shape[0], device=img.device)
        return (F.cross_entropy(logits_i2t, labels) + F.cross_entropy(logits_t2i, labels)) / 2


def imc_loss(
    image: Tensor,
    text: Tensor,
    neg_text: Tensor,
    neg_mask: Tensor | None,
    logit_scale: Tensor,
    scope: str = "own",
) -> Tensor:
    """Intra-modal contrast: a caption must sit closer to its image than to its own negatives.

    scope="own":
        L_imc = -(1/N) sum_i log( e^{s<I_i,T_i>} / (e^{s<I_i,T_i>} + sum_{k: m_ik=1} e^{s<T_i,T_i^k>}) )
    scope="batch" (every valid negative of the global batch in each denominator):
        L_imc = -(1/N) sum_i log( e^{s<I_i,T_i>} / (e^{s<I_i,T_i>} + sum_{j,k: m_jk=1} e^{s<T_i,T_j^k>}) )

    The average runs over all N rows: a row without a valid negative contributes log 1 = 0 and
    still counts in N, so the loss does not grow when fewer captions found a negative.
    Computed as a cross-entropy (log-sum-exp) with the positive in column 0.
    """
    if scope not in IMC_SCOPES:
        raise ValueError(f"imc scope must be one of {IMC_SCOPES}; got {scope!r}")
    with _no_autocast(image.device):
        img, txt, s, neg, mask = _prepared(image, text, logit_scale, neg_text, neg_mask)
        positive = s * (img * txt).sum(-1, keepdim=True)
        if scope == "own":
            neg_logits = s * torch.einsum("nd,nkd->nk", txt, neg)
            neg_logits = neg_logits.masked_fill(~mask, float("-inf"))
        else:
            neg_logits = s * txt @ neg.reshape(-1, neg.shape[-1]).T
            neg_logits = neg_logits.masked_fill(~mask.reshape(1, -1), float("-inf"))
        logits = torch.cat([positive, neg_logits], dim=1)
        labels = torch.zeros(img.shape[0], dtype=torch.long, device=img.device)
        return F.cross_entropy(logits, labels)


def cmr_loss(
    image: Tensor,
    text: Tensor,
    neg_text: Tensor,
    neg_mask: Tensor | None,
    logit_scale: Tensor,
    margins: Tensor,
) -> Tensor:
    """Cross-modal rank with one margin per negative kind:

        L_cmr = mean_{(i,k): m_ik=1} max(0, tau_k + s<I_i,T_i^k> - s<I_i,T_i>)

    and 0 when no pair is valid (still attached to the graph, so backward works). ``margins``
    is tau [K], in logit units; it is a constant here (detached).
    """
    with _no_autocast(image.device):
        img, txt, s, neg, mask = _prepared(image, text, logit_scale, neg_text, neg_mask)
        dtype = img.dtype
        tau = torch.as_tensor(margins).detach().to(device=img.device, dtype=dtype)
        if tau.shape != (neg.shape[1],):
            raise ValueError(f"margins must be [K] = [{neg.shape[1]}]; got {tuple(tau.shape)}")
        positive = s * (img * txt).sum(-1, keepdim=True)
        negative = s * torch.einsum("nd,nkd->nk", img, neg)
        hinge = torch.clamp(tau + negative - positive, min=0)
        hinge = torch.where(mask, hinge, torch.zeros((), dtype=dtype, device=img.device))
        return hinge.sum() / mask.sum().clamp(min=1).to(dtype)


# --------------------------------------------------------------------------- statistics


@torch.no_grad()
def kind_margins(
    image: Tensor,
    text: Tensor,
    neg_text: Tensor,
    neg_mask: Tensor | None,
    logit_scale: Tensor,
    previous: Tensor,
    upper: float = 10.0,
) -> Tensor:
    """The adaptive CMR margins this batch sets for the next step, per kind k:

        tau_k = clamp( mean_i s<I_i,T_i> - mean_{i: m_ik=1} s<I_i,T_i^k>, 0, upper )

    (the first mean over all N rows). A kind with no valid negative in this batch keeps
    ``previous[k]``. Returns a detached [K] tensor with ``previous``'s dtype, on the features'
    device.
    """
    with _no_autocast(image.device):  # no_grad above: nothing here is part of the graph
        img, txt, s, neg, mask = _prepared(image, text, logit_scale, neg_text, neg_mask)
        previous = torch.as_tensor(previous).detach().to(device=img.device)
        if previous.shape != (neg.shape[1],):
            raise ValueError(f"previous margins must be [K] = [{neg.shape[1]}]; got {tuple(previous.shape)}")
        positive = (s * (img * txt).sum(-1)).mean()
        negative, count = _masked_mean(s * torch.einsum("nd,nkd->nk", img, neg), mask, dim=0)
        tau = torch.clamp(positive - negative, min=0.0, max=float(upper))
        return torch.where(count > 0, tau.to(previous.dtype), previous)


@torch.no_grad()
def kind_diagnostics(
    image: Tensor,
    text: Tensor,
    neg_text: Tensor,
    neg_mask: Tensor | None,
    logit_scale: Tensor,
) -> dict[str, Tensor]:
    """Per-kind statistics of this batch, detached, [K] each, NaN for a kind with no valid negative:

        "text_cosine": mean_{i: m_ik=1} <T_i, T_i^k>      (features are unit vectors: cosine)
        "gap":         mean_{i: m_ik=1} s<I_i,T_i> - s<I_i,T_i^k>
    """
    with _no_autocast(image.device):  # no_grad above: nothing here is part of the graph
        img, txt, s, neg, mask = _prepared(image, text, logit_scale, neg_text, neg_mask)
        cosine, _ = _masked_mean(torch.einsum("nd,nkd->nk", txt, neg), mask, dim=0)
        gap = s * ((img * txt).sum(-1, keepdim=True) - torch.einsum("nd,nkd->nk", img, neg))
        gap, _ = _masked_mean(gap, mask, dim=0)
        return {"text_cosine": cosine, "gap": gap}


# --------------------------------------------------------------------------- combination


@dataclass(frozen=True)
class LossSettings:
    """Which terms the training loss has and how they are weighted.

    hard_negatives: False trains plain CLIP (ITC without negatives; no IMC, no CMR).
    imc_weight, cmr_weight: weights of IMC and CMR; 0 leaves a term out (it is not computed).
    cmr_upper: upper clamp of the adaptive margins, in logit units.
    cmr_fixed_margin: None (the paper's adaptive margins), or one margin for every kind at every
        step, in logit units: the "fixed margin" arm of the ablation.
    imc_scope: "own" (each caption against its own negatives) or "batch" (against all of them).
    """

    hard_negatives: bool = True
    imc_weight: float = 0.3
    cmr_weight: float = 0.2
    cmr_upper: float = 10.0
    imc_scope: str = "own"
    cmr_fixed_margin: float | None = None

    def __post_init__(self):
        if self.imc_scope not in IMC_SCOPES:
            raise ValueError(f"imc_scope must be one of {', '.join(IMC_SCOPES)}; got {self.imc_scope!r}")
        names = ("imc_weight", "cmr_weight", "cmr_upper") + (("cmr_fixed_margin",) if self.cmr_fixed_margin is not None else ())
        for name in names:
            value = getattr(self, name)
            # `not value >= 0` also turns away NaN
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")


class CompositionLoss:
    """Combines the terms and carries the adaptive margins between steps (state must be saveable).

        L = L_itc + imc_weight * L_imc + cmr_weight * L_cmr

    ``margins`` [K] (float32, starting at zeros) are the tau of CMR. Each call uses the current
    margins and then, unless ``update_margins=False``, replaces them with the ones this batch
    sets (``kind_margins``), so the margins a step uses come from the previous step's batch.
    With gradient accumulation, call with ``update_margins=False`` for every micro-step and
    ``advance_margins`` once per optimizer step on the whole global batch.

    Margins only serve CMR: with hard negatives off or ``cmr_weight`` 0 they are never
    advanced and stay where they are. With ``cmr_fixed_margin`` set they start at that value
    and are never advanced either.
    """

    def __init__(self, settings: LossSettings, num_kinds: int):
        if isinstance(num_kinds, bool) or not isinstance(num_kinds, int) or num_kinds < 1:
            raise ValueError(f"num_kinds must be an int >= 1; got {num_kinds!r}")
        self.settings = settings
        self.num_kinds = num_kinds
        self.margins = torch.full((num_kinds,), float(settings.cmr_fixed_margin or 0.0), dtype=torch.float32)

    @property
    def _tracks_margins(self) -> bool:
        return self.settings.hard_negatives and self.settings.cmr_weight > 0 and self.settings.cmr_fixed_margin is None

    def _check_negatives(self, neg_text: Tensor | None) -> None:
        if neg_text is None:
            raise ValueError("hard_negatives is on but no neg_text was given")
        if neg_text.dim() != 3 or neg_text.shape[1] != self.num_kinds:
            raise ValueError(f"neg_text must be [N, {self.num_kinds}, D]; got {tuple(neg_text.shape)}")

    def __call__(
        self,
        image: Tensor,
        text: Tensor,
        logit_scale: Tensor,
        neg_text: Tensor | None = None,
        neg_mask: Tensor | None = None,
        update_margins: bool = True,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """(total loss, detached terms). The terms are 0-dim tensors "itc", "imc", "cmr",
        "total" (a term left out reads 0) and "tau" [K], the margins this call used; they stay
        tensors so that logging them does not wait for the device."""
        settings = self.settings
        tau = self.margins.detach().clone()
        if not settings.hard_negatives:
            itc = itc_loss(image, text, logit_scale)
            imc = cmr = None
        else:
            self._check_negatives(neg_text)
            itc = itc_loss(image, text, logit_scale, neg_text, neg_mask)
            imc = (
                imc_loss(image, text, neg_text, neg_mask, logit_scale, scope=settings.imc_scope)
                if settings.imc_weight > 0
                else None
            )
            cmr = (
                cmr_loss(image, text, neg_text, neg_mask, logit_scale, tau.to(image.device))
                if settings.cmr_weight > 0
                else None
            )
        total = itc
        if imc is not None:
            total = total + settings.imc_weight * imc
        if cmr is not None:
            total = total + settings.cmr_weight * cmr
        zero = torch.zeros((), dtype=itc.dtype, device=itc.device)
        terms = {
            "itc": itc.detach(),
            "imc": zero if imc is None else imc.detach(),
            "cmr": zero if cmr is None else cmr.detach(),
            "total": total.detach(),
            "tau": tau,
        }
        if update_margins:
            self.advance_margins(image, text, neg_text, neg_mask, logit_scale)
        return total, terms

    def advance_margins(
        self,
        image: Tensor,
        text: Tensor,
        neg_text: Tensor | None,
        neg_mask: Tensor | None,
        logit_scale: Tensor,
    ) -> Tensor:
        """Set the margins for the next step from this batch; returns them (a no-op when the
        margins are not tracked, see the class docstring)."""
        if self._tracks_margins:
            self._check_negatives(neg_text)
            self.margins = kind_margins(
                image, text, neg_text, neg_mask, logit_scale,
                previous=self.margins, upper=self.settings.cmr_upper,
            )
        return self.margins

    def state_dict(self) -> dict:
        # plain floats: a checkpoint must load with torch.load(weights_only=True)
        return {"margins": [float(x) for x in self.margins.detach().cpu().tolist()]}

    def load_state_dict(self, state: dict) -> None:
        margins = [float(x) for x in state["margins"]]
        if len(margins) != self.num_kinds:
            raise ValueError(f"state has {len(margins)} margins; this loss has {self.num_kinds} kinds")
        self.margins = torch.tensor(margins, dtype=torch.float32, device=self.margins.device)
