#!/usr/bin/env bash
# Every GPU check of the project in one run, sized for one device session (about 9 minutes at most, start-up not
# included; the device tool allows 10 minutes a command and 15 minutes a session):
#   1. the `#| cuda` cells (each notebook that has one is run whole, CPU cells included), 4 notebooks in parallel;
#   2. the benchmark suite on the GPU: bench/run.py --device cuda (its JSON is rewritten after every section);
#   3. the callbacks' overhead on the GPU; 4. a markdown report of 2 for bench/RESULTS.md;
#   5. `lesson4 serve`'s trainer (LiveTrainer, the live callbacks) training on the GPU for a few seconds.
# The GPU image has PyTorch but not fastai, kornia, nbdev or mlxtend: first, here, `python bench/gpu_wheels.py`
# (saves the missing wheels in .whl/, about 19 MiB), then on the device: `bash bench/gpu.sh --quick` with carry ['.whl'].
# Logs, results-cuda.json and report.md go to $OUT (default ./gpu_out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu_out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=python3
if [ -d .whl ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD PATH=/tmp/site/bin:$PATH
else export PYTHONPATH=$PWD; fi
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $PY -c "import torch, fastai, kornia, torchvision, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'fastai', fastai.__version__, 'kornia', kornia.__version__, 'torchvision', torchvision.__version__)"; } 2>&1 | tee "$OUT/versions.txt"
echo "== 1. #| cuda cells"
timeout 200 nbdev-test nbs --flags cuda --file-re '^(03_augment|04_data|05a_information|07_landscape|10_capture)\.ipynb$' --n-workers 4 --timing 2>&1 | tee "$OUT/cuda_cells.log"
echo "== 2. bench/run.py --device cuda ${1:-}"
timeout 240 $PY bench/run.py --device cuda ${1:-} --out "$OUT/results-cuda.json" 2>&1 | grep -v '^W1' | tee "$OUT/run.log"
echo "== 3. bench/callbacks_overhead.py --device cuda"
timeout 90 $PY bench/callbacks_overhead.py --device cuda --reps 5 --learner ours 2>&1 | tee "$OUT/callbacks.log"
echo "== 4. report"
$PY bench/report.py "$OUT/results-cuda.json" 2>&1 | tee "$OUT/report.md"
echo "== 5. lesson4 serve's trainer on the GPU (a few seconds of live training)"
timeout 60 $PY -c "
import time, torch
from fastai_lesson4.trainer import LiveTrainer
for model in ('linear', 'relu', 'cnn'):
    t = LiveTrainer(device='cuda', model=model, lr=0.1, bs=64, pace=0).start()   # full speed
    t.control('play'); time.sleep(1); s0, t0 = t.step, time.time(); time.sleep(3)
    r = (t.step - s0)/(time.time() - t0); s = t.status(); f = t.frames()
    print(f'{model}: {r:,.0f} steps/s on cuda, valid acc {s[\"valid_acc\"]}, error {s[\"error\"]}, frames {sorted(f)}')
    t.close()
" 2>&1 | tee "$OUT/trainer.log"
