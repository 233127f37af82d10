#!/usr/bin/env bash
# The trainer on one GPU (bench/gpu_train.py): ViT-B-32-quickgelu, batch 256, 4 negatives per
# caption, bf16, a few hundred steps; samples/s, peak memory and MFU, the CE-CLIP objective
# against the --no-hard-negatives control, side by side in one process.
#
# On the GPU machine, from the repository root:   bash bench/gpu_train.sh [extra gpu_train.py flags]
# The machine needs PyTorch with CUDA (already there on this project's device machines) plus the
# pure-Python packages fgclip's trainer uses. Where it cannot reach a package index, download
# them on a machine that can, first (`make gpu-wheels` writes them to .whl/), and bring .whl/ along.
# The trainer needs no Ray, NLTK or WordNet.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/fgclip-site .whl/*.whl
    export PYTHONPATH=/tmp/fgclip-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
python3 -c "import torch, open_clip; assert torch.cuda.is_available(), 'no GPU visible'; print(torch.__version__, open_clip.__version__, torch.cuda.get_device_name())"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv || true
python3 bench/gpu_train.py --model ViT-B-32-quickgelu --batch 256 --steps 200 --stream-steps 60 "$@"
