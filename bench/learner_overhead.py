"""Per-batch overhead of `fastai_lesson4.learner.Learner.fit` vs a raw PyTorch loop vs fastai's `Learner.fit`.

Same MLP (784-100-10), same device-resident MNIST batches (bs 256, fixed order), same torch SGD, same accuracy
function, one process; the three runs are interleaved (rotating order) and we report medians.
All three compute the train loss, valid loss and accuracy each epoch; the raw loop syncs once per epoch.
Both Learners run with their default callbacks (progress bars and epoch table, written to a sink).

    python bench/learner_overhead.py [--device cpu|cuda] [--epochs N] [--repeats N] [--copies K] [--threads T]
"""
import argparse, contextlib, copy, io, statistics, time, warnings
from functools import partial
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
import torch, torch.nn as nn, torch.nn.functional as F
from fastai.learner import Learner as FastaiLearner
from fastai.optimizer import OptimWrapper
import fastai.callback.progress  # fastai's default ProgressCallback
from fastai_lesson4.basics import mnist_splits
from fastai_lesson4.learner import Learner

class DLs:
    "Minimal `dls`: lists of device-resident batches, indexable like fastai's `DataLoaders`"
    def __init__(self, train, valid, device): self.train, self.valid, self.device = train, valid, device
    def __getitem__(self, i): return (self.train, self.valid)[i]

def accuracy(pred, targ):
    "The metric all three runs compute (a plain torch function; fastai's `accuracy` adds `TensorBase` overhead)"
    return (pred.argmax(1) == targ).float().mean()

def batches(x, y, bs): return [(x[i:i+bs], y[i:i+bs]) for i in range(0, len(x), bs)]

def make_data(device, copies, bs=256):
    xt, yt, xv, yv = mnist_splits()
    xt, xv = (o.view(-1, 784).float().div(255).to(device) for o in (xt, xv))
    yt, yv = yt.to(device), yv.to(device)
    xt, yt = xt.repeat(copies, 1), yt.repeat(copies)
    return DLs(batches(xt, yt, bs), batches(xv, yv, bs), torch.device(device))

def raw_fit(model, dls, epochs, lr):
    "What a careful hand-written loop does: train, validate, loss/accuracy summed on the device, one sync per epoch"
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    dev = dls.device
    for _ in range(epochs):
        model.train(); tl = torch.zeros((), device=dev)
        for xb, yb in dls.train:
            loss = F.cross_entropy(model(xb), yb)
            loss.backward(); opt.step(); opt.zero_grad()
            tl += loss.detach()
        model.eval(); vl = torch.zeros((), device=dev); acc = torch.zeros((), device=dev); n = 0
        with torch.no_grad():
            for xb, yb in dls.valid:
                p = model(xb); vl += F.cross_entropy(p, yb)*len(yb); acc += (p.argmax(1) == yb).float().sum(); n += len(yb)
        res = torch.stack([tl/len(dls.train), vl/n, acc/n]).tolist()
    return res

def ours_fit(model, dls, epochs, lr):
    learn = Learner(dls, model, F.cross_entropy, opt_func=torch.optim.SGD, lr=lr, metrics=accuracy)
    learn.fit(epochs)
    return learn.recorder.values[-1]

def fastai_fit(model, dls, epochs, lr):
    learn = FastaiLearner(dls, model, F.cross_entropy, opt_func=partial(OptimWrapper, opt=torch.optim.SGD), lr=lr, metrics=accuracy)
    learn.fit(epochs)
    return learn.recorder.values[-1]

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--copies', type=int, default=15, help='repeat the 4,000 training digits K times per epoch (15: 60,000, as in DESIGN.md)')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    p.add_argument('--lr', type=float, default=0.1)
    p.add_argument('--clock', default='wall', choices=['wall', 'cpu'], help="'cpu' (process time) is steadier on a shared CPU box")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    dls = make_data(a.device, a.copies)
    torch.manual_seed(0)
    model0 = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10)).to(a.device)
    runs = dict(raw=raw_fit, ours=ours_fit, fastai=fastai_fit)
    sync = torch.cuda.synchronize if dls.device.type == 'cuda' else (lambda: None)
    clock = time.process_time if a.clock == 'cpu' else time.perf_counter
    def timed(name):
        model = copy.deepcopy(model0)
        sync(); t = clock()
        with contextlib.redirect_stdout(io.StringIO()): res = runs[name](model, dls, a.epochs, a.lr)
        sync(); return clock() - t, res
    for n in runs: timed(n)  # warm-up (allocator, kernels, imports)
    times, finals = {n: [] for n in runs}, {}
    names = list(runs)
    for r in range(a.repeats):
        for n in names[r % 3:] + names[:r % 3]:
            t, finals[n] = timed(n); times[n].append(t)
    n_img = a.epochs*(sum(len(b[1]) for b in dls.train) + sum(len(b[1]) for b in dls.valid))
    n_batch = a.epochs*(len(dls.train) + len(dls.valid))
    med = {n: statistics.median(v) for n, v in times.items()}
    dev = torch.cuda.get_device_name() if dls.device.type == 'cuda' else f'CPU ({a.threads} thread)'
    print(f'device: {dev}; torch {torch.__version__}; {a.epochs} epochs x ({len(dls.train)} train + {len(dls.valid)} valid batches of 256); '
          f'{a.repeats} interleaved repeats, medians; {a.clock} clock')
    mn = {n: min(v) for n, v in times.items()}
    print(f"{'run':8} {'median s':>9} {'images/s':>10} {'us/batch':>9} {'vs raw':>7} {'min s':>7} {'min vs raw':>10}   last epoch [train_loss, valid_loss, accuracy]")
    for n in names:
        print(f'{n:8} {med[n]:9.3f} {n_img/med[n]:10.0f} {1e6*med[n]/n_batch:9.1f} {med[n]/med["raw"]:7.3f} {mn[n]:7.3f} {mn[n]/mn["raw"]:10.3f}   '
              f'{[round(float(v), 4) for v in finals[n][:3]]}')
    print(f'ratios (medians): ours/raw = {med["ours"]/med["raw"]:.3f}, fastai/raw = {med["fastai"]/med["raw"]:.3f}')

if __name__ == '__main__': main()
