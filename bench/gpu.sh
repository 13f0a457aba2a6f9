#!/usr/bin/env bash
# Every GPU check of the project in one run (sized for ~8 minutes on one H100/H200, start-up not included):
#   1. the `#| cuda` cells of the notebooks that have them (each notebook is run whole, CPU cells included);
#   2. the benchmark suite on the GPU (bench/run.py --device cuda), which writes bench/results-cuda.json;
#   3. the callbacks' overhead on the GPU.
# Logs and the JSON go to $OUT (default ./gpu_out). Paste the tables into bench/RESULTS.md with the card, date and versions.
#   bash bench/gpu.sh [--quick]
set -u
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
Q=${1:-}
cd "$(dirname "$0")/.."
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python -c "import torch, fastai, kornia, torchvision; print('torch', torch.__version__, 'fastai', fastai.__version__, 'kornia', kornia.__version__, 'torchvision', torchvision.__version__)"; } 2>&1 | tee "$OUT/versions.txt"
nbs=$(grep -l '#| cuda' nbs/*.ipynb | tr '\n' ' ')
echo "== nbdev-test --flags cuda on: $nbs" | tee "$OUT/cuda_cells.log"
for nb in $nbs; do timeout 300 nbdev-test "$nb" --flags cuda --timing >>"$OUT/cuda_cells.log" 2>&1; echo "$nb: rc $?" | tee -a "$OUT/cuda_cells.log"; done
echo "== bench/run.py --device cuda $Q"
timeout 360 python bench/run.py --device cuda $Q --out "$OUT/results-cuda.json" 2>&1 | grep -v '^W1' | tee "$OUT/run.log"
cp "$OUT/results-cuda.json" bench/results-cuda.json 2>/dev/null
echo "== bench/callbacks_overhead.py --device cuda"
timeout 180 python bench/callbacks_overhead.py --device cuda --reps 5 2>&1 | tee "$OUT/callbacks.log"
python bench/report.py "$OUT/results-cuda.json" | tee "$OUT/report.md"
