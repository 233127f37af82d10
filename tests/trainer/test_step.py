"""One optimizer step's gradient: accumulation and data parallelism must give the gradient of
the one large batch (contrastive losses do not decompose over samples, so this is not free)."""

from __future__ import annotations

import math
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from fgclip import model as model_io
from fgclip.trainer import distributed
from fgclip.trainer.loop import _parameter_groups, accumulate_gradients, learning_rate
from fgclip.trainer.losses import CompositionLoss, LossSettings

K = 4
ONE_PROCESS = distributed.World(rank=0, size=1, local_rank=0, device=torch.device("cpu"))


class _NoScaler:
    def scale(self, loss):
        return loss


def tiny_model(config_path, seed: int = 0):
    torch.manual_seed(seed)
    net, _, _ = model_io.create(model_io.resolve_architecture(str(config_path)))
    return net


def synthetic_batch(size: int, seed: int = 1) -> dict:
    generator = torch.Generator().manual_seed(seed)
    mask = torch.rand(size, K, generator=generator) > 0.3
    mask[0] = False  # a sample without any negative
    return {
        "image": torch.randn(size, 3, 32, 32, generator=generator),
        "text": torch.randint(1, 49000, (size, 16), generator=generator),
        "neg_text": torch.randint(1, 49000, (size, K, 16), generator=generator),
        "neg_mask": mask,
    }


def split(batch: dict, parts: int) -> list[dict]:
    size = batch["image"].shape[0] // parts
    return [{k: v[i * size:(i + 1) * size] for k, v in batch.items()} for i in range(parts)]


def gradients(net, micro, world=ONE_PROCESS, hard_negatives=True):
    loss_fn = CompositionLoss(LossSettings(hard_negatives=hard_negatives), num_kinds=K)
    loss_fn.margins = torch.tensor([0.5, 1.0, 2.0, 0.0])  # exercise CMR with non-zero margins
    net.zero_grad(set_to_none=True)
    terms, _ = accumulate_gradients(net, loss_fn, micro, world, hard_negatives, None, _NoScaler())
    return float(terms["total"]), {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}


def assert_same_gradients(expected: dict, actual: dict):
    assert expected.keys() == actual.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("hard_negatives", [True, False])
def test_accumulated_micro_batches_give_the_large_batch_gradient(tiny_config, hard_negatives):
    net = tiny_model(tiny_config)
    batch = synthetic_batch(8)
    loss_large, large = gradients(net, [batch], hard_negatives=hard_negatives)
    loss_micro, micro = gradients(net, split(batch, 4), hard_negatives=hard_negatives)
    assert loss_micro == pytest.approx(loss_large, rel=1e-5)
    assert "logit_scale" in large  # the shared scale must collect its gradient once, not four times
    assert_same_gradients(large, micro)


def test_naive_accumulation_would_differ(tiny_config):
    """The check above can fail: averaging small-batch losses gives another gradient."""
    net = tiny_model(tiny_config)
    batch = synthetic_batch(8)
    _, large = gradients(net, [batch])
    halves = [gradients(net, [half])[1] for half in split(batch, 2)]
    naive = {name: (halves[0][name] + halves[1][name]) / 2 for name in large}
    assert not all(torch.allclose(naive[n], large[n], rtol=1e-4, atol=1e-6) for n in large)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, world_size: int, port: int, config_path: str, out_dir: str, accum: int):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    world = distributed.setup("cpu")
    net = tiny_model(config_path)
    ddp = torch.nn.parallel.DistributedDataParallel(net)
    mine = split(synthetic_batch(8), world_size)[rank]
    loss, grads = gradients(ddp, split(mine, accum), world)
    torch.save({"loss": loss, "grads": {n.removeprefix("module."): g for n, g in grads.items()}},
               os.path.join(out_dir, f"rank{rank}.pt"))
    distributed.teardown(world, owned=True)


@pytest.mark.parametrize("accum", [1, 2])
def test_two_processes_give_the_loss_and_gradient_of_one(tiny_config, tmp_path, accum):
    _, expected = gradients(tiny_model(tiny_config), [synthetic_batch(8)])
    expected_loss, _ = gradients(tiny_model(tiny_config), [synthetic_batch(8)])
    mp.start_processes(_rank_main, args=(2, _free_port(), str(tiny_config), str(tmp_path), accum), nprocs=2,
                       start_method="spawn")
    for rank in range(2):
        result = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert result["loss"] == pytest.approx(expected_loss, rel=1e-5)
        assert_same_gradients(expected, result["grads"])


def test_learning_rate_warms_up_linearly_then_decays_by_cosine_to_zero():
    assert learning_rate(0, 100, 1.0, 10) == pytest.approx(0.1)
    assert learning_rate(9, 100, 1.0, 10) == pytest.approx(1.0)
    assert learning_rate(10, 100, 1.0, 10) == pytest.approx(1.0)
    assert learning_rate(55, 100, 1.0, 10) == pytest.approx(0.5)
    assert learning_rate(100, 100, 1.0, 10) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate(0, 100, 1.0, 0) == pytest.approx(1.0)


def test_weight_decay_skips_gains_biases_and_logit_scale(tiny_config):
    net = tiny_model(tiny_config)
    decayed, plain = _parameter_groups(net, 0.1)
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    names = {id(p): n for n, p in net.named_parameters()}
    plain_names = {names[id(p)] for p in plain["params"]}
    assert "logit_scale" in plain_names
    assert all(p.ndim >= 2 for p in decayed["params"])
    assert any(n.endswith("ln_final.weight") for n in plain_names)
    assert any(n.endswith("in_proj_weight") for n in (names[id(p)] for p in decayed["params"]))
    assert len(decayed["params"]) + len(plain["params"]) == len(list(net.parameters()))
    assert math.isclose(float(net.logit_scale.detach().exp()), 1 / 0.07, rel_tol=1e-5)
