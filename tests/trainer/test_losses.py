import math

import pytest

torch = pytest.importorskip("torch")

from fgclip.trainer import losses  # noqa: E402
from fgclip.trainer.losses import (  # noqa: E402
    CompositionLoss,
    LossSettings,
    cmr_loss,
    imc_loss,
    itc_loss,
    kind_diagnostics,
    kind_margins,
)


def ce(logits, target):
    """Cross-entropy of one row, in plain Python."""
    return -logits[target] + math.log(sum(math.exp(x) for x in logits))


def unit(*rows, dtype=torch.float32):
    return torch.tensor(rows, dtype=dtype)


# The hand batch: N=2, D=2, K=2, s=2, slot (1, 1) masked.
#   I = (1,0), (0,1)      T = (.6,.8), (.8,.6)
#   negatives of T_1: (1,0), (0,1)    of T_2: (.6,.8), [(1,0) masked]
S = 2.0


def hand_batch(dtype=torch.float32):
    image = unit((1.0, 0.0), (0.0, 1.0), dtype=dtype)
    text = unit((0.6, 0.8), (0.8, 0.6), dtype=dtype)
    neg = torch.tensor([[(1.0, 0.0), (0.0, 1.0)], [(0.6, 0.8), (1.0, 0.0)]], dtype=dtype)
    mask = torch.tensor([[True, True], [True, False]])
    return image, text, neg, mask, torch.tensor(S, dtype=dtype)


# columns T_1, T_2, T_1^1, T_1^2, T_2^1 (T_2^2 masked)
ITC_HAND = (
    ce([1.2, 1.6, 2.0, 0.0, 1.2], 0) + ce([1.6, 1.2, 0.0, 2.0, 1.6], 1)
) / 4 + (ce([1.2, 1.6], 0) + ce([1.6, 1.2], 1)) / 4
# positive s<I_i,T_i> = 1.2 for both rows; <T_1,T_1^k> = .6, .8; <T_2,T_2^1> = .96
IMC_OWN_HAND = (ce([1.2, 1.2, 1.6], 0) + ce([1.2, 1.92], 0)) / 2
# every valid negative (1,0), (0,1), (.6,.8) against T_1 = (.6,.8) and T_2 = (.8,.6)
IMC_BATCH_HAND = (ce([1.2, 1.2, 1.6, 2.0], 0) + ce([1.2, 1.6, 1.2, 1.92], 0)) / 2
# valid pairs: (1,1): tau_1 + 2 - 1.2; (1,2): tau_2 + 0 - 1.2; (2,1): tau_1 + 1.6 - 1.2
def cmr_hand(tau1, tau2):
    return (max(0.0, tau1 + 0.8) + max(0.0, tau2 - 1.2) + max(0.0, tau1 + 0.4)) / 3


# mean_i s<I_i,T_i> = 1.2; kind 1: mean(2, 1.6) = 1.8 -> -0.6 -> 0; kind 2: 0 -> 1.2
MARGINS_HAND = [0.0, 1.2]


def random_batch(seed, n=6, k=4, d=8, dtype=torch.float32, p_valid=0.6):
    g = torch.Generator().manual_seed(seed)
    norm = torch.nn.functional.normalize
    image = norm(torch.randn(n, d, generator=g, dtype=dtype), dim=-1)
    text = norm(torch.randn(n, d, generator=g, dtype=dtype), dim=-1)
    neg = norm(torch.randn(n, k, d, generator=g, dtype=dtype), dim=-1)
    mask = torch.rand(n, k, generator=g) < p_valid
    mask[0, 0], mask[-1, -1] = True, False  # at least one of each
    scale = torch.tensor(math.exp(float(torch.empty(()).uniform_(1.0, 4.6, generator=g))), dtype=dtype)
    return image, text, neg, mask, scale


def clip_loss(image, text, scale):
    open_clip_loss = pytest.importorskip("open_clip.loss")
    return open_clip_loss.ClipLoss()(image, text, scale)


# --------------------------------------------------------------------------- hand values


def test_itc_hand_value():
    image, text, neg, mask, s = hand_batch()
    assert itc_loss(image, text, s, neg, mask).item() == pytest.approx(ITC_HAND, abs=1e-6)
    plain = (ce([1.2, 1.6], 0) + ce([1.6, 1.2], 1)) / 2
    assert itc_loss(image, text, s).item() == pytest.approx(plain, abs=1e-6)


def test_imc_hand_values_own_and_batch():
    image, text, neg, mask, s = hand_batch()
    own = imc_loss(image, text, neg, mask, s, scope="own").item()
    batch = imc_loss(image, text, neg, mask, s, scope="batch").item()
    assert own == pytest.approx(IMC_OWN_HAND, abs=1e-6)
    assert batch == pytest.approx(IMC_BATCH_HAND, abs=1e-6)
    assert batch > own  # wider denominators


def test_imc_row_without_negative_counts_in_n():
    image, text, neg, _, s = hand_batch()
    mask = torch.tensor([[True, True], [False, False]])
    expected = ce([1.2, 1.2, 1.6], 0) / 2  # row 2 adds log 1 = 0 but still counts
    assert imc_loss(image, text, neg, mask, s).item() == pytest.approx(expected, abs=1e-6)
    none = torch.zeros(2, 2, dtype=torch.bool)
    assert imc_loss(image, text, neg, none, s).item() == pytest.approx(0.0, abs=1e-7)
    assert imc_loss(image, text, neg, none, s, scope="batch").item() == pytest.approx(0.0, abs=1e-7)


def test_imc_rejects_unknown_scope():
    image, text, neg, mask, s = hand_batch()
    with pytest.raises(ValueError, match="scope"):
        imc_loss(image, text, neg, mask, s, scope="global")


def test_cmr_hand_value():
    image, text, neg, mask, s = hand_batch()
    for tau in ([0.5, 0.3], [0.0, 0.0], [0.0, 1.5]):
        got = cmr_loss(image, text, neg, mask, s, torch.tensor(tau)).item()
        assert got == pytest.approx(cmr_hand(*tau), abs=1e-6)
        assert got > 0


def test_cmr_zero_when_negatives_far_below():
    image = unit((1.0, 0.0), (0.0, 1.0))
    text = image.clone()
    neg = -image.unsqueeze(1).repeat(1, 2, 1)  # s<I,T^k> - s<I,T> = -2s = -4 < -margin
    mask = torch.ones(2, 2, dtype=torch.bool)
    scale = torch.tensor(S, requires_grad=True)
    loss = cmr_loss(image, text, neg, mask, scale, torch.tensor([3.9, 1.0]))
    assert loss.item() == 0.0
    # just past the margin it bites: 4.1 - 4 = 0.1 on the two pairs of kind 1
    bites = cmr_loss(image, text, neg, mask, scale, torch.tensor([4.1, 1.0]))
    assert bites.item() == pytest.approx(0.05, abs=1e-6)


def test_cmr_no_valid_pair_is_zero_and_differentiable():
    image, text, neg, _, _ = hand_batch()
    scale = torch.tensor(S, requires_grad=True)
    loss = cmr_loss(image, text, neg, torch.zeros(2, 2, dtype=torch.bool), scale, torch.ones(2))
    assert loss.item() == 0.0
    loss.backward()
    assert scale.grad.item() == 0.0


def test_kind_margins_hand_and_clamps():
    image, text, neg, mask, s = hand_batch()
    prev = torch.tensor([7.0, 7.0])
    torch.testing.assert_close(kind_margins(image, text, neg, mask, s, prev), torch.tensor(MARGINS_HAND))
    torch.testing.assert_close(kind_margins(image, text, neg, mask, s, prev, upper=1.0), torch.tensor([0.0, 1.0]))
    # s = 20: kind 1 gives 12 - 18 = -6 -> 0, kind 2 gives 12 -> the default upper 10
    big = torch.tensor(20.0)
    torch.testing.assert_close(kind_margins(image, text, neg, mask, big, prev), torch.tensor([0.0, 10.0]))


def test_kind_margins_absent_kind_keeps_previous_and_is_detached():
    image, text, neg, _, _ = hand_batch()
    image.requires_grad_(True)
    scale = torch.tensor(S, requires_grad=True)
    mask = torch.tensor([[False, True], [False, False]])
    out = kind_margins(image, text, neg, mask, scale, torch.tensor([0.7, 0.0]))
    torch.testing.assert_close(out, torch.tensor([0.7, 1.2]))
    assert not out.requires_grad


def test_diagnostics_hand_values_and_nan():
    image, text, neg, mask, s = hand_batch()
    diag = kind_diagnostics(image, text, neg, mask, s)
    torch.testing.assert_close(diag["text_cosine"], torch.tensor([(0.6 + 0.96) / 2, 0.8]))
    torch.testing.assert_close(diag["gap"], torch.tensor([((1.2 - 2.0) + (1.2 - 1.6)) / 2, 1.2 - 0.0]))
    diag = kind_diagnostics(image, text, neg, torch.tensor([[True, False], [True, False]]), s)
    assert torch.isnan(diag["text_cosine"][1]) and torch.isnan(diag["gap"][1])
    assert not torch.isnan(diag["text_cosine"][0]) and not torch.isnan(diag["gap"][0])


# --------------------------------------------------------------------------- ITC vs open_clip


@pytest.mark.parametrize("seed", range(5))
def test_itc_without_negatives_is_open_clip_clip_loss(seed):
    image, text, _, _, scale = random_batch(seed, n=8, d=16)
    expected = clip_loss(image, text, scale)
    torch.testing.assert_close(itc_loss(image, text, scale), expected, atol=1e-6, rtol=0)


def test_itc_all_negatives_masked_is_plain_itc():
    image, text, neg, _, scale = random_batch(1)
    none = torch.zeros(neg.shape[:2], dtype=torch.bool)

    def value_and_grads(*extra):
        img, txt = image.clone().requires_grad_(True), text.clone().requires_grad_(True)
        sc = scale.clone().requires_grad_(True)
        loss = itc_loss(img, txt, sc, *extra)
        loss.backward()
        return loss.detach(), img.grad, txt.grad, sc.grad

    for a, b in zip(value_and_grads(neg, none), value_and_grads()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


# --------------------------------------------------------------------------- masked negatives


def _all_terms(image, text, neg, mask, scale, margins):
    return {
        "itc": itc_loss(image, text, scale, neg, mask),
        "imc_own": imc_loss(image, text, neg, mask, scale, "own"),
        "imc_batch": imc_loss(image, text, neg, mask, scale, "batch"),
        "cmr": cmr_loss(image, text, neg, mask, scale, margins),
    }


@pytest.mark.parametrize("k", [1, 4, 5])
@pytest.mark.parametrize("garbage", ["random", "nan"])
def test_masked_negative_changes_nothing(k, garbage):
    image, text, neg, mask, scale = random_batch(2, k=k)
    margins = torch.linspace(0.5, 2.0, k)
    other = neg.clone()
    junk = torch.randn(other.shape, generator=torch.Generator().manual_seed(9)) * 100
    if garbage == "nan":
        junk[..., 0] = float("nan")
    other[~mask] = junk[~mask]

    def run(negatives):
        leaves = [t.clone().requires_grad_(True) for t in (image, text, negatives, scale)]
        out = {}
        for name, loss in _all_terms(*leaves[:3], mask, leaves[3], margins).items():
            grads = torch.autograd.grad(loss, leaves)
            out[name] = (loss.detach(), *grads)
        return out

    clean, dirty = run(neg), run(other)
    for name in clean:
        value, g_img, g_txt, g_neg, g_scale = dirty[name]
        assert torch.equal(value, clean[name][0]), name
        assert torch.equal(g_img, clean[name][1]), name
        assert torch.equal(g_txt, clean[name][2]), name
        assert torch.equal(g_neg, clean[name][3]), name
        assert torch.equal(g_scale, clean[name][4]), name
        assert torch.count_nonzero(g_neg[~mask]) == 0, name
    prev = torch.zeros(k)
    torch.testing.assert_close(
        kind_margins(image, text, other, mask, scale, prev), kind_margins(image, text, neg, mask, scale, prev)
    )
    expected = kind_diagnostics(image, text, neg, mask, scale)
    for key, value in kind_diagnostics(image, text, other, mask, scale).items():
        torch.testing.assert_close(value, expected[key], equal_nan=True)


# --------------------------------------------------------------------------- gradcheck


def _gradcheck_inputs(seed):
    image, text, neg, mask, scale = random_batch(seed, n=3, k=2, d=4, dtype=torch.float64)
    return [t.clone().requires_grad_(True) for t in (image, text, neg, scale)], mask


def test_gradcheck_itc_with_negatives():
    (image, text, neg, scale), mask = _gradcheck_inputs(3)
    assert torch.autograd.gradcheck(lambda i, t, n, s: itc_loss(i, t, s, n, mask), (image, text, neg, scale))


@pytest.mark.parametrize("scope", ["own", "batch"])
def test_gradcheck_imc(scope):
    (image, text, neg, scale), mask = _gradcheck_inputs(4)
    assert torch.autograd.gradcheck(
        lambda i, t, n, s: imc_loss(i, t, n, mask, s, scope=scope), (image, text, neg, scale)
    )


def test_gradcheck_cmr_fixed_margins():
    (image, text, neg, scale), mask = _gradcheck_inputs(5)
    margins = torch.tensor([1.0, 2.0], dtype=torch.float64)
    with torch.no_grad():  # keep clear of the hinge's kink and make sure some pair is active
        s = scale.detach()
        arg = margins + s * torch.einsum("nd,nkd->nk", image, neg) - s * (image * text).sum(-1, keepdim=True)
        assert (arg[mask].abs() > 1e-3).all() and (arg[mask] > 0).any()
    assert torch.autograd.gradcheck(
        lambda i, t, n, s: cmr_loss(i, t, n, mask, s, margins), (image, text, neg, scale)
    )


# --------------------------------------------------------------------------- precision


def test_losses_leave_autocast_and_compute_in_float32():
    image, text, neg, mask, scale = random_batch(6)
    reference = _all_terms(image, text, neg, mask, scale, torch.ones(4))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert (image @ text.T).dtype == torch.bfloat16  # the region really autocasts
        inside = _all_terms(image, text, neg, mask, scale, torch.ones(4))
    for name, value in inside.items():
        assert value.dtype == torch.float32, name
        torch.testing.assert_close(value, reference[name], atol=1e-6, rtol=0)
    half = [t.bfloat16() for t in (image, text, neg)]
    widened = [t.float() for t in half]
    for name, value in _all_terms(*half, mask, scale, torch.ones(4)).items():
        assert value.dtype == torch.float32, name
        assert torch.equal(value, _all_terms(*widened, mask, scale, torch.ones(4))[name]), name


# --------------------------------------------------------------------------- CompositionLoss


def second_batch():
    # images swapped: s<I_i,T_i> = 1.6; kind 1 negatives 0 and 1.2 -> tau_1 = 1.6 - 0.6 = 1.0;
    # kind 2 absent -> keeps the previous tau_2
    image, text, neg, _, s = hand_batch()
    return image.flip(0), text, neg, torch.tensor([[True, False], [True, False]]), s


def test_composition_total_and_terms_hand():
    loss = CompositionLoss(LossSettings(), num_kinds=2)
    image, text, neg, mask, s = hand_batch()
    total, terms = loss(image, text, s, neg, mask)
    expected = ITC_HAND + 0.3 * IMC_OWN_HAND + 0.2 * cmr_hand(0.0, 0.0)
    assert total.item() == pytest.approx(expected, abs=1e-6)
    assert terms["itc"].item() == pytest.approx(ITC_HAND, abs=1e-6)
    assert terms["imc"].item() == pytest.approx(IMC_OWN_HAND, abs=1e-6)
    assert terms["cmr"].item() == pytest.approx(cmr_hand(0.0, 0.0), abs=1e-6)
    assert terms["total"].item() == pytest.approx(expected, abs=1e-6)
    assert all(not v.requires_grad for v in terms.values())
    settings = LossSettings(imc_scope="batch", imc_weight=0.5, cmr_weight=1.5)
    total, _ = CompositionLoss(settings, 2)(image, text, s, neg, mask)
    assert total.item() == pytest.approx(ITC_HAND + 0.5 * IMC_BATCH_HAND + 1.5 * cmr_hand(0.0, 0.0), abs=1e-6)


def test_composition_tau_comes_from_previous_batch():
    loss = CompositionLoss(LossSettings(), num_kinds=2)
    image, text, neg, mask, s = hand_batch()
    image.requires_grad_(True)
    scale = s.clone().requires_grad_(True)
    _, terms = loss(image, text, scale, neg, mask)
    torch.testing.assert_close(terms["tau"], torch.zeros(2))
    torch.testing.assert_close(loss.margins, torch.tensor(MARGINS_HAND))
    assert not loss.margins.requires_grad and loss.margins.dtype == torch.float32

    b_image, b_text, b_neg, b_mask, b_s = second_batch()
    _, terms = loss(b_image, b_text, b_s, b_neg, b_mask)
    torch.testing.assert_close(terms["tau"], torch.tensor(MARGINS_HAND))
    torch.testing.assert_close(loss.margins, torch.tensor([1.0, 1.2]))

    total, terms = loss(image, text, scale, neg, mask)
    torch.testing.assert_close(terms["tau"], torch.tensor([1.0, 1.2]))
    assert terms["cmr"].item() == pytest.approx(cmr_hand(1.0, 1.2), abs=1e-6)
    total.backward()  # margins are constants: the graph does not reach into them
    assert not loss.margins.requires_grad and not terms["tau"].requires_grad


def test_composition_fixed_margin_is_used_every_step_and_never_advanced():
    loss = CompositionLoss(LossSettings(cmr_fixed_margin=1.5), num_kinds=2)
    for batch in (hand_batch(), second_batch(), hand_batch()):
        image, text, neg, mask, s = batch
        total, terms = loss(image, text, s, neg, mask)
        torch.testing.assert_close(terms["tau"], torch.tensor([1.5, 1.5]))
        torch.testing.assert_close(loss.margins, torch.tensor([1.5, 1.5]))
    # the last call saw the hand batch with tau 1.5 for both kinds
    assert terms["cmr"].item() == pytest.approx(cmr_hand(1.5, 1.5), abs=1e-6)
    returned = loss.advance_margins(image, text, neg, mask, s)
    torch.testing.assert_close(returned, torch.tensor([1.5, 1.5]))


def test_composition_update_margins_false_and_advance():
    loss = CompositionLoss(LossSettings(), num_kinds=2)
    image, text, neg, mask, s = hand_batch()
    for _ in range(3):
        _, terms = loss(image, text, s, neg, mask, update_margins=False)
        torch.testing.assert_close(loss.margins, torch.zeros(2))
        torch.testing.assert_close(terms["tau"], torch.zeros(2))
    returned = loss.advance_margins(image, text, neg, mask, s)
    torch.testing.assert_close(loss.margins, torch.tensor(MARGINS_HAND))
    torch.testing.assert_close(returned, torch.tensor(MARGINS_HAND))


def test_composition_without_hard_negatives_is_clip_loss():
    image, text, neg, mask, scale = random_batch(7)
    loss = CompositionLoss(LossSettings(hard_negatives=False), num_kinds=4)
    for negatives in ((), (neg, mask)):
        total, terms = loss(image, text, scale, *negatives)
        torch.testing.assert_close(total, clip_loss(image, text, scale), atol=1e-6, rtol=0)
        assert terms["imc"].item() == 0.0 and terms["cmr"].item() == 0.0
    torch.testing.assert_close(loss.margins, torch.zeros(4))


def test_composition_zero_weights_skip_terms(monkeypatch):
    image, text, neg, mask, scale = random_batch(8)
    with_terms, _ = CompositionLoss(LossSettings(), 4)(image, text, scale, neg, mask)

    def forbidden(*args, **kwargs):
        raise AssertionError("a term with weight 0 was computed")

    monkeypatch.setattr(losses, "imc_loss", forbidden)
    monkeypatch.setattr(losses, "cmr_loss", forbidden)
    monkeypatch.setattr(losses, "kind_margins", forbidden)
    loss = CompositionLoss(LossSettings(imc_weight=0.0, cmr_weight=0.0), num_kinds=4)
    total, terms = loss(image, text, scale, neg, mask)
    expected = itc_loss(image, text, scale, neg, mask)
    assert torch.equal(total, expected)
    assert torch.equal(terms["itc"], expected)
    assert with_terms.item() > expected.item()  # the weighted terms were really there before


def test_composition_requires_negatives_of_k_kinds():
    image, text, neg, mask, scale = random_batch(9, k=4)
    with pytest.raises(ValueError, match="neg_text"):
        CompositionLoss(LossSettings(), 4)(image, text, scale)
    with pytest.raises(ValueError, match="neg_text"):
        CompositionLoss(LossSettings(), 3)(image, text, scale, neg, mask)
    with pytest.raises(ValueError, match="num_kinds"):
        CompositionLoss(LossSettings(), 0)


def test_state_dict_round_trip(tmp_path):
    loss = CompositionLoss(LossSettings(), num_kinds=2)
    image, text, neg, mask, s = hand_batch()
    loss(image, text, s, neg, mask)
    path = tmp_path / "loss.pt"
    torch.save({"loss": loss.state_dict()}, path)
    state = torch.load(path, weights_only=True)["loss"]
    fresh = CompositionLoss(LossSettings(), num_kinds=2)
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.margins, torch.tensor(MARGINS_HAND))
    assert fresh.margins.dtype == torch.float32
    with pytest.raises(ValueError, match="margins"):
        CompositionLoss(LossSettings(), num_kinds=3).load_state_dict(state)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"imc_scope": "global"}, "imc_scope"),
        ({"imc_weight": -0.1}, "imc_weight"),
        ({"cmr_weight": -1.0}, "cmr_weight"),
        ({"cmr_weight": float("nan")}, "cmr_weight"),
        ({"cmr_upper": -1.0}, "cmr_upper"),
        ({"cmr_fixed_margin": -1.0}, "cmr_fixed_margin"),
        ({"cmr_fixed_margin": float("nan")}, "cmr_fixed_margin"),
    ],
)
def test_settings_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        LossSettings(**kwargs)
    LossSettings(**{key: 0.0 if key != "imc_scope" else "batch" for key in kwargs})  # the bounds pass
