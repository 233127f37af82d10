"""Text towers run at the batch's longest caption (fgclip.text_encoding): the features and the
gradients are open_clip's own, for every tower it trims; other towers keep the full context.
Random-init tiny open_clip models, no weights, no network."""

from __future__ import annotations

import json

import open_clip
import pytest
import torch
from typer.testing import CliRunner

from fgclip import text_encoding
from fgclip.cli import app
from fgclip.config import TrainConfig
from fgclip.eval.encoders import ClipEncoder
from fgclip.schema import KINDS
from fgclip.trainer import distributed, loop
from fgclip.trainer.losses import CompositionLoss, LossSettings

from trainer.conftest import TINY_CONFIG, write_shards, write_tiny_config

VISION = {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16}
# open_clip's real context (77), so that the tokenizer's captions leave most of it padding.
TEXT = {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2}
FP32_TOLERANCE = 1e-5
# bf16 keeps 8 bits of mantissa (a relative step of 2**-8 = 3.9e-3), and matrix products of
# another shape round differently: 1.9e-3 to 3.7e-3 seen on these towers (5.4e-3 on ViT-B-32's 12
# layers); a wrong position or mask gives differences of order 1.
BF16_TOLERANCE = 1e-2

SHORT = "a dog"
MEDIUM = "two brown dogs playing with a red frisbee on the grass next to a wooden bench"
LONG = " ".join(["a small white cat sleeping on a soft blue chair beside the window"] * 3)  # 41 tokens
OVERFLOWING = " ".join(["a man riding a horse along the beach at sunset"] * 12)  # cut at the context


def clip_model(quick_gelu: bool = False, **text) -> open_clip.CLIP:
    torch.manual_seed(0)
    return open_clip.CLIP(embed_dim=32, vision_cfg=VISION, text_cfg={**TEXT, **text}, quick_gelu=quick_gelu).eval()


def custom_text_model(**text) -> open_clip.CustomTextCLIP:
    torch.manual_seed(0)
    return open_clip.CustomTextCLIP(embed_dim=32, vision_cfg=VISION, text_cfg={**TEXT, **text}).eval()


@pytest.fixture(scope="module")
def tokenize():
    return open_clip.get_tokenizer("ViT-B-32")


def relative_difference(trimmed: torch.Tensor, full: torch.Tensor) -> float:
    return float(((trimmed.float() - full.float()).norm(dim=-1) / full.float().norm(dim=-1)).max())


TRIMMED_TOWERS = {
    "CLIP, built-in tower": lambda: clip_model(),
    "CLIP, QuickGELU": lambda: clip_model(quick_gelu=True),
    "CustomTextCLIP, TextTransformer": lambda: custom_text_model(),
    "CustomTextCLIP, eos pooling": lambda: custom_text_model(pool_type="eos", eos_id=49407),
}


@pytest.mark.parametrize("make", TRIMMED_TOWERS.values(), ids=TRIMMED_TOWERS.keys())
@pytest.mark.parametrize("captions", [[SHORT, MEDIUM, LONG, SHORT], [SHORT, OVERFLOWING, MEDIUM], [SHORT, SHORT]],
                         ids=["lengths 4 to 41", "one fills the context", "all short"])
def test_trimmed_features_are_open_clips_in_fp32(make, captions, tokenize):
    model = make()
    tokens = tokenize(captions)
    path = text_encoding.text_path(model)
    assert path.trimmed, path.reason
    assert path.length(tokens) == (77 if OVERFLOWING in captions else max(len(tokenize([c])[0].nonzero()) for c in captions))
    with torch.no_grad():
        full = model.encode_text(tokens)
        trimmed = text_encoding.encode_text(model, tokens, path=path)
    assert relative_difference(trimmed, full) <= FP32_TOLERANCE


@pytest.mark.parametrize("make", TRIMMED_TOWERS.values(), ids=TRIMMED_TOWERS.keys())
def test_trimmed_features_are_open_clips_under_bf16_autocast(make, tokenize):
    model = make()
    tokens = tokenize([SHORT, MEDIUM, LONG])
    assert text_encoding.text_path(model).length(tokens) == 41  # LONG
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        full = model.encode_text(tokens)
        trimmed = text_encoding.encode_text(model, tokens)
    assert trimmed.dtype == full.dtype
    assert relative_difference(trimmed, full) <= BF16_TOLERANCE


def test_the_cut_ends_at_the_batchs_last_end_of_text_and_keeps_the_tokenizers_output_whole(tokenize):
    path = text_encoding.text_path(clip_model())
    tokens = tokenize([SHORT, MEDIUM])
    lengths = (tokens != 0).sum(dim=-1)  # start + words + end-of-text; zeros pad
    cut = path.cut(tokens)
    assert cut.shape == (2, int(lengths.max())) and torch.equal(cut, tokens[:, :cut.shape[1]])
    assert path.row_lengths(tokens).tolist() == lengths.tolist()
    assert path.cut(tokenize([OVERFLOWING])).shape[1] == 77
    assert tokens.shape == (2, 77)


def test_eos_pooling_cuts_at_the_first_eos_id_not_at_the_largest_id():
    path = text_encoding.text_path(custom_text_model(pool_type="eos", eos_id=5))
    tokens = torch.tensor([[1, 900, 5, 0, 0, 0], [1, 5, 800, 700, 0, 0]])
    assert path.cut(tokens).shape[1] == 3


NOT_TRIMMED = {
    "no causal mask": (lambda: clip_model(no_causal_mask=True), "no causal mask"),
    "pooled at the last position": (lambda: clip_model(pool_type="last"), "pooled at 'last'"),
    "pooled at the first position": (lambda: custom_text_model(pool_type="first"), "pooled at 'first'"),
    "class token": (lambda: custom_text_model(embed_cls=True), "class token"),
    "not a CLIP": (lambda: torch.nn.Identity(), "not an open_clip CLIP model"),
}


@pytest.mark.parametrize("make, reason", NOT_TRIMMED.values(), ids=NOT_TRIMMED.keys())
def test_other_towers_keep_the_full_context_and_say_why(make, reason):
    path = text_encoding.text_path(make())
    assert not path.trimmed and reason in path.reason
    assert "full context" in path.describe() and reason in path.describe()
    tokens = torch.tensor([[49406, 320, 49407, 0, 0]])
    assert path.cut(tokens) is tokens


def test_those_towers_encode_as_open_clip_does(tokenize):
    model = custom_text_model(embed_cls=True)
    tokens = tokenize([SHORT, MEDIUM])
    with torch.no_grad():
        assert torch.equal(text_encoding.encode_text(model, tokens), model.encode_text(tokens))
    with pytest.raises(ValueError, match="class token"):
        text_encoding.TrimmedTextCLIP(model)


def test_trimming_a_last_position_tower_would_change_its_features(tokenize):
    """Why 'last' keeps the full context: the last position of a cut batch is another token."""
    model = clip_model(pool_type="last")
    tokens = tokenize([SHORT, MEDIUM])
    with torch.no_grad():
        full = model.encode_text(tokens)
        cut = tokens[:, :int((tokens != 0).sum(dim=-1).max())]
        forced = text_encoding._run_tower(model, "last", None, cut, normalize=False)
    assert relative_difference(forced, full) > 0.01


ONE = distributed.World(rank=0, size=1, local_rank=0, device=torch.device("cpu"))


class _NoScaler:
    def scale(self, loss):
        return loss


def training_batch(tokenize, size: int = 6) -> dict:
    generator = torch.Generator().manual_seed(1)
    captions = [SHORT, MEDIUM, LONG, "a red car", "the cat is on the mat", MEDIUM][:size]
    negatives = [[caption.replace("a", "the", 1) + f" {kind}" for kind in KINDS] for caption in captions]
    mask = torch.ones(size, len(KINDS), dtype=torch.bool)
    mask[0, 1] = mask[3, 3] = False
    return {"image": torch.randn(size, 3, 32, 32, generator=generator), "text": tokenize(captions),
            "neg_text": tokenize([n for row in negatives for n in row]).reshape(size, len(KINDS), -1),
            "neg_mask": mask}


def gradients_of_a_step(model, net, batch, text_path, accum: int = 1) -> dict:
    net.zero_grad(set_to_none=True)
    loss_fn = CompositionLoss(LossSettings(), num_kinds=len(KINDS))
    micro = [{k: v[i::accum] for k, v in batch.items()} for i in range(accum)]
    loop.accumulate_gradients(model, loss_fn, micro, ONE, True, None, _NoScaler(), text_path)
    return {name: p.grad.clone() for name, p in net.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("make", [clip_model, custom_text_model], ids=["CLIP", "CustomTextCLIP"])
@pytest.mark.parametrize("accum", [1, 2])
def test_a_training_step_has_open_clips_gradients(make, accum, tokenize):
    net = make().train()
    batch = training_batch(tokenize)
    full = gradients_of_a_step(net, net, batch, None, accum)
    path = text_encoding.text_path(net)
    trimmed = gradients_of_a_step(text_encoding.TrimmedTextCLIP(net), net, batch, path, accum)
    assert trimmed.keys() == full.keys() and any("token_embedding" in name for name in full)
    for name, grad in full.items():
        scale = float(grad.norm()) or 1.0
        assert float((trimmed[name] - grad).norm()) / scale <= FP32_TOLERANCE, name


def test_the_step_sends_the_text_tower_the_batchs_longest_text_only(tokenize):
    seen = []

    def model(image, tokens):
        seen.append(tokens)
        features = torch.nn.functional.normalize(torch.ones(tokens.shape[0], 4), dim=-1)
        return {"image_features": features[:image.shape[0]], "text_features": features, "logit_scale": torch.tensor(1.0)}

    batch = training_batch(tokenize)
    path = text_encoding.text_path(clip_model())
    features = loop.encode(model, batch, torch.device("cpu"), True, path)
    every_text = torch.cat([batch["text"], batch["neg_text"][batch["neg_mask"]]])
    assert torch.equal(seen[0], every_text[:, :path.length(every_text)]) and seen[0].shape[1] < 77
    assert features.neg_text.shape == (6, len(KINDS), 4) and not features.neg_text[0, 1].any()
    loop.encode(model, batch, torch.device("cpu"), False, path)
    assert torch.equal(seen[1], batch["text"][:, :path.length(batch["text"])])


def test_the_eval_encoder_gives_open_clips_features_in_the_texts_order(tokenize):
    model = clip_model()
    texts = [LONG, SHORT, OVERFLOWING, MEDIUM, "a red car", SHORT + " again"]
    encoder = ClipEncoder(model, None, tokenize, batch_size=2)
    assert encoder.text_path.trimmed
    with torch.no_grad():
        expected = model.encode_text(tokenize(texts), normalize=True)
    assert relative_difference(encoder.encode_texts(texts), expected) <= FP32_TOLERANCE
    assert encoder.encode_texts([]).numel() == 0


def test_the_eval_encoder_cuts_each_batch_to_its_own_longest_text(tokenize, monkeypatch):
    model = clip_model()
    widths = []
    encode_prefix = text_encoding.encode_prefix
    monkeypatch.setattr(text_encoding, "encode_prefix",
                        lambda m, tokens, normalize: widths.append(tokens.shape[1]) or encode_prefix(m, tokens, normalize))
    ClipEncoder(model, None, tokenize, batch_size=2).encode_texts([LONG, SHORT, MEDIUM, SHORT])
    short, medium, long = (int((tokenize([t]) != 0).sum()) for t in (SHORT, MEDIUM, LONG))
    assert widths == [short, long]  # the two short texts together, then the medium and long ones
    assert medium < long


# ---- the training loop: which path it takes, and --compile ----

def tiny_run_config(tiny_config, shards, output, **overrides) -> TrainConfig:
    values = dict(shards=str(shards), output=str(output), model=str(tiny_config), batch_size=8, steps=2, lr=1e-3,
                  warmup=1, workers=0, log_every=1, save_every=2, device="cpu", precision="fp32")
    return TrainConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory):
    return write_tiny_config(tmp_path_factory.mktemp("model-config"))


@pytest.fixture(scope="module")
def tiny_shards(tmp_path_factory):
    return write_shards(tmp_path_factory.mktemp("shards"), shards=1)


def test_the_training_log_says_once_which_text_path_it_takes(tiny_config, tiny_shards, tmp_path):
    assert TINY_CONFIG["text_cfg"]["context_length"] == 16
    lines = []
    loop.train(tiny_run_config(tiny_config, tiny_shards, tmp_path / "run"), echo=lines.append)
    said = [line for line in lines if "text tower runs" in line]
    assert said == ["text tower runs at each batch's longest caption (causal mask, pooled at the end-of-text token "
                    "(argmax))"]


def test_compile_is_off_by_default_and_the_flag_reaches_the_loop(tiny_config, tiny_shards, tmp_path, monkeypatch):
    compiled = []

    def recording_compile(module, **options):
        compiled.append(module)
        return module

    monkeypatch.setattr(torch, "compile", recording_compile)
    assert TrainConfig(shards="s", output="o").compile is False
    result = CliRunner().invoke(app, ["train", "--shards", str(tiny_shards), "--output", str(tmp_path / "run"),
                                      "--model", str(tiny_config), "--steps", "1", "--batch-size", "8",
                                      "--workers", "0", "--device", "cpu", "--compile"])
    assert result.exit_code == 0, result.output
    assert len(compiled) == 1 and isinstance(compiled[0], text_encoding.TrimmedTextCLIP)
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert saved["config"]["compile"] is True
    loop.train(tiny_run_config(tiny_config, tiny_shards, tmp_path / "plain", steps=1), echo=lambda _: None)
    assert len(compiled) == 1


def test_a_compile_that_fails_at_the_first_call_falls_back_to_eager_with_a_warning():
    calls, warnings = [], []

    def failing_compiled(*args):
        calls.append("compiled")
        raise torch._dynamo.exc.InternalTorchDynamoError("no C++ compiler found")

    def eager(x):
        calls.append("eager")
        return x + 1

    forward = loop.CompiledForward(eager, failing_compiled, warnings.append)
    assert forward(1) == 2 and forward(2) == 3
    assert calls == ["compiled", "eager", "eager"]
    assert len(warnings) == 1 and "torch.compile failed" in warnings[0] and "no C++ compiler" in warnings[0]


def test_an_error_of_the_model_itself_is_not_taken_for_a_compile_failure():
    def compiled(*args):
        raise ValueError("shapes do not match")

    with pytest.raises(ValueError, match="shapes"):
        loop.CompiledForward(lambda x: x, compiled, lambda _: None)(1)


def test_a_torch_without_compile_trains_uncompiled_and_says_so(tiny_config, tiny_shards, tmp_path, monkeypatch):
    def unavailable(module, **options):
        raise RuntimeError("torch.compile is not supported on Python 3.14+")

    monkeypatch.setattr(torch, "compile", unavailable)
    summary = loop.train(tiny_run_config(tiny_config, tiny_shards, tmp_path / "run", compile=True), echo=lambda _: None)
    assert summary["steps"] == 2
    assert [w for w in summary["warnings"] if "torch.compile is not available here" in w and "Python 3.14" in w]


def test_compile_keeps_no_sync_for_accumulation():
    class Wrapped:
        def no_sync(self):
            return "context"

        def __call__(self, x):
            return x

    forward = loop.CompiledForward(Wrapped(), lambda x: x, lambda _: None)
    assert forward.no_sync() == "context"
    assert not hasattr(loop.CompiledForward(lambda x: x, lambda x: x, lambda _: None), "no_sync")


@pytest.mark.slow
def test_a_compiled_run_has_the_eager_runs_losses(tiny_config, tiny_shards, tmp_path):
    """Compiled for real (about a minute on 2 cores). Losses, not weights, are compared: Adam's
    first steps move every weight by about the learning rate whatever its gradient's size, so
    a gradient near zero that rounds to the other sign moves its weight the other way."""
    from fgclip.trainer.metrics import read_metrics

    eager = loop.train(tiny_run_config(tiny_config, tiny_shards, tmp_path / "eager"), echo=lambda _: None)
    compiled = loop.train(tiny_run_config(tiny_config, tiny_shards, tmp_path / "compiled", compile=True),
                          echo=lambda _: None)
    assert compiled["steps"] == eager["steps"] == 2
    assert not [w for w in compiled["warnings"] if "compile" in w]
    losses = [[row["total"] for row in read_metrics(tmp_path / run / "metrics.jsonl")] for run in ("eager", "compiled")]
    assert losses[1] == pytest.approx(losses[0], rel=1e-4)
