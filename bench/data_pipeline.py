"""MNIST data pipeline benchmark: our device-resident `TensorDataLoaders` vs torch `DataLoader(TensorDataset)` vs
fastai's `DataBlock` over PNG folders (`mnist_datablock`), iterate-only and inside our `Learner` with a small MLP.

One process, same digits for every loader: the embedded 5,000-digit sample, repeated to 60,000 training images for
the tensor loaders and written once as PNG files (fastai's `URLs.MNIST` layout) for the DataBlock. The DataBlock path
is timed on `--fastai-batches` batches (it is ~100x slower) and reported as images/s, like the others; its epoch time
is extrapolated to 60,000 images. Repeats are interleaved; medians are reported, with ratios.

Targets (issue 4): ours >= 100x the fastai DataBlock path and >= 5x torch's DataLoader(TensorDataset) at bs 256;
peak device memory (CUDA only) <= dataset + 3 batches.

    python bench/data_pipeline.py                 # GPU if there is one, else CPU
    python bench/data_pipeline.py --device cpu --reps 3 --threads 2
"""
import argparse, os, statistics, sys, tempfile, time, warnings, resource
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
from pathlib import Path
import torch, torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fastai_lesson4.data import (TensorDataLoaders, MnistData, get_mnist, save_png_folder, mnist_datablock,
                                 MNIST_MEAN, MNIST_STD)

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
p.add_argument('--bs', type=int, default=256)
p.add_argument('--n', type=int, default=60_000, help='training images per epoch for the tensor loaders')
p.add_argument('--reps', type=int, default=3, help='interleaved repeats (medians reported)')
p.add_argument('--fastai-batches', type=int, default=20, help='DataBlock batches timed per repeat')
p.add_argument('--fastai-workers', type=int, default=0, help='num_workers of the fastai DataBlock DataLoader')
p.add_argument('--no-learner', action='store_true', help='iterate-only')
p.add_argument('--threads', type=int, default=None, help="torch intra-op threads; default 1 on CPU (the same for every "
               "row: on a shared, oversubscribed CPU each multi-threaded op of the model can stall for a scheduler time "
               "slice, which swamps what is measured here), torch's setting on GPU")
args = p.parse_args()
if args.threads is None and not args.device.startswith('cuda'): args.threads = 1
if args.threads: torch.set_num_threads(args.threads)
dev = torch.device(args.device)
torch.manual_seed(0)

def sync():
    if dev.type == 'cuda': torch.cuda.synchronize(dev)

# ---- the same digits for everyone ----
s = get_mnist('sample')
x_all, y_all = torch.cat([s.x_train, s.x_valid]), torch.cat([s.y_train, s.y_valid])  # 5,000 digits
reps = -(-args.n // len(x_all))
x60, y60 = x_all.repeat(reps, 1, 1)[:args.n], y_all.repeat(reps)[:args.n]
x_val, y_val = s.x_valid, s.y_valid
print(f"device {dev} ({torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'{torch.get_num_threads()} threads'}), "
      f"bs {args.bs}, {len(x60):,} training images ({len(x_all):,} distinct digits x {reps}), torch {torch.__version__}")

# ours
ours = TensorDataLoaders.from_tensors(x60, y60, x_val, y_val, bs=args.bs, device=dev, seed=0, drop_last=False)

# torch DataLoader(TensorDataset): the usual way, normalized float images in host memory, batches moved to `dev`
def norm(x): return ((x.float()/255 - MNIST_MEAN)/MNIST_STD).unsqueeze(1)
pin = dev.type == 'cuda'
tdl_train = DataLoader(TensorDataset(norm(x60), y60), batch_size=args.bs, shuffle=True, pin_memory=pin)
tdl_valid = DataLoader(TensorDataset(norm(x_val), y_val), batch_size=args.bs, pin_memory=pin)

# fastai DataBlock over PNG files: the 5,000 digits on disk in URLs.MNIST's layout
tmp = Path(tempfile.mkdtemp())
t0 = time.perf_counter()
png = save_png_folder(MnistData(x_all, y_all, x_val, y_val, s.vocab), tmp/'mnist_png', layout='mnist')
print(f"wrote {len(x_all) + len(x_val):,} PNG files in {time.perf_counter()-t0:.1f}s")
fdls = mnist_datablock(png, aug=False).dataloaders(png, bs=args.bs, num_workers=args.fastai_workers, device=dev)

# ---- iterate-only ----
def it_ours():
    n = 0
    for xb, yb in ours.train: n += len(xb)
    sync(); return n
def it_torch():
    n = 0
    for xb, yb in tdl_train:
        xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True); n += len(xb)
    sync(); return n
def it_fastai():
    n, it = 0, iter(fdls.train)
    for _ in range(args.fastai_batches):
        try: xb, yb = next(it)
        except StopIteration: it = iter(fdls.train); xb, yb = next(it)
        n += len(xb)
    sync(); return n

def timed(f):
    t = time.perf_counter(); n = f(); return n / (time.perf_counter() - t)

def run(rows, reps):
    res = {k: [] for k in rows}
    for f in rows.values(): f()  # warm-up (also first PNG reads, CUDA kernels)
    for _ in range(reps):
        for k, f in rows.items(): res[k].append(timed(f))
    return {k: statistics.median(v) for k, v in res.items()}

def table(title, r):
    print(f"\n{title} (images/s, median of {args.reps}; epoch = {args.n:,} images)")
    print(f"| {'loader':<42} | {'images/s':>12} | {'epoch s':>8} | {'ours is':>9} |")
    print(f"|{'-'*44}|{'-'*14}:|{'-'*9}:|{'-'*10}:|")
    for k, v in r.items():
        print(f"| {k:<42} | {v:>12,.0f} | {args.n/v:>8.2f} | {r['ours: TensorDataLoaders'] / v:>8.1f}x |")

rows = {'ours: TensorDataLoaders': it_ours, 'torch DataLoader(TensorDataset)': it_torch,
        f'fastai DataBlock over PNG (workers={args.fastai_workers})': it_fastai}
it = run(rows, args.reps)
table('Iterate only', it)

# ---- with our Learner + MLP 784-100-10 ----
if not args.no_learner:
    from fastai.data.core import DataLoaders
    from fastai_lesson4.learner import Learner
    from common import TrainOnly, mlp
    lname = 'our Learner'
    def fit_on(dls, n_batches=None):
        learn = Learner(dls, mlp(), loss_func=nn.CrossEntropyLoss(), lr=1e-3, path=tmp)
        learn.model.to(dev)
        def f():
            with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=TrainOnly(n_batches))
            sync()
            return len(dls.train_ds) if n_batches is None else n_batches*args.bs
        return f
    torch_dls = DataLoaders(tdl_train, tdl_valid, device=dev)
    fastai_nb = min(args.fastai_batches, len(fdls.train))
    lrows = {'ours: TensorDataLoaders': fit_on(ours), 'torch DataLoader(TensorDataset)': fit_on(torch_dls),
             f'fastai DataBlock over PNG (workers={args.fastai_workers})': fit_on(fdls, fastai_nb)}
    lt = run(lrows, args.reps)
    table(f'{lname} + MLP 784-100-10, fit 1 epoch, training only', lt)

# ---- memory ----
ds_bytes = sum(t.numel()*t.element_size() for d in (ours.train_ds, ours.valid_ds) for t in (d.x, d.y))
batch_bytes = args.bs*784*4 + args.bs*8
print(f"\ndataset on the device: {ds_bytes/2**20:.1f} MiB (uint8 images + int64 labels); one float32 batch + labels: "
      f"{batch_bytes/2**20:.2f} MiB")
if dev.type == 'cuda':
    del ours; torch.cuda.empty_cache(); torch.cuda.synchronize()
    base = torch.cuda.memory_allocated(dev)
    torch.cuda.reset_peak_memory_stats(dev)
    m = TensorDataLoaders.from_tensors(x60, y60, x_val, y_val, bs=args.bs, device=dev, seed=0, drop_last=False)
    data = torch.cuda.memory_allocated(dev) - base
    for xb, yb in m.train: pass
    del xb, yb; torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated(dev) - base
    extra = peak - data
    print(f"CUDA: dataset {data/2**20:.1f} MiB, peak during an epoch {peak/2**20:.1f} MiB: "
          f"dataset + {extra/batch_bytes:.2f} batches -> {'PASS' if extra <= 3*batch_bytes else 'FAIL'} (target <= 3)")
else:
    print(f"CPU: peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**10:.0f} MiB "
          "(includes torch, fastai and the PNG path; device-memory target is checked on CUDA only)")

r_fast, r_torch = it['ours: TensorDataLoaders'] / it[list(it)[2]], it['ours: TensorDataLoaders'] / it['torch DataLoader(TensorDataset)']
print(f"\ntargets, iterate-only: ours/fastai DataBlock {r_fast:.0f}x ({'PASS' if r_fast >= 100 else 'FAIL'}, >= 100x), "
      f"ours/torch DataLoader {r_torch:.1f}x ({'PASS' if r_torch >= 5 else 'FAIL'}, >= 5x)")
