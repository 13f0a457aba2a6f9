"""Overhead of the learning-dynamics callbacks (`fastai_lesson4.callbacks`) on an epoch of the MLP benchmark.

MLP 784-100-10, bs 256, SGD, the 4,000 MNIST sample digits tiled to `--n` images, our device-resident
`TensorDataLoaders`, on our `Learner` and on fastai's. One epoch = `fit(1, cbs=...)` (training + validation on 1,000
digits) of one Learner per kind, so every configuration trains the same model in the same memory (on a shared CPU,
two identical Learners can differ by 10% just from where their tensors live).
Configurations are interleaved (one epoch of each per round, in a new random order each round, after a warm-up
round). Reported: the median of `--reps` rounds, 'ratio' = that median over the median without callbacks, and
'paired' = the median over rounds of (epoch with the callback / mean of the two epochs without callbacks in the same
round), which cancels slow drifts of a shared machine. The two runs without callbacks ('none', 'none (control)')
show the noise floor; 'no-op Callback' (fastai's base `Callback`, doing nothing) is the dispatch cost any
callback pays. 'own' = 1 + the median over rounds of (seconds spent inside the callback's event handlers and forward
hooks during the epoch / the round's epoch without callbacks): the time the callback itself adds, measured inside the
run, so it is not swamped by the noise floor of whole-epoch timings on a shared CPU. It is a lower bound: dispatch,
the slower module-call path any forward hook causes, and allocator effects are not in it. On a GPU 'own' is host time
(launches); the device work it queues shows in 'paired'. Budget: each callback <= 1.05, NoiseScale <= 1.15,
InformationPlane <= 1.10 (issue 19; at its defaults: 1,000 validation digits as probe, the ReLU layer and the softmax
output, both estimators, measured at the start of each fit and at the end of each epoch, so twice per `fit(1)` here),
checked on 'own'; 'paired' is flagged when it is over too, with the noise floor seen in the same run.

    python bench/callbacks_overhead.py [--device cpu|cuda] [--learner ours|fastai|both] [--reps 7] [--n 60000] [--threads 1] [--clock wall|cpu] [--only NAME ...]
"""
import argparse, time, statistics, warnings, random, gc
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
import torch, torch.nn as nn
from fastai.learner import Learner as FastaiLearner
import fastai.callback.progress  # fastai's `Learner.no_bar`
from fastai.optimizer import SGD
from fastai.callback.core import Callback
from fastai_lesson4.basics import mnist_splits
from fastai_lesson4.data import TensorDataLoaders
from fastai_lesson4.learner import Learner
from fastai_lesson4.callback import events
from fastai_lesson4.callbacks import WeightHistory, GradNorm, NoiseScale, Forgetting, DeadReLU
from fastai_lesson4.information import InformationPlane

CONFIGS = {'none': lambda: [], 'none (control)': lambda: [], 'no-op Callback': lambda: [Callback()], 'WeightHistory': lambda: [WeightHistory()], 'WeightHistory(full)': lambda: [WeightHistory(full=True)],
           'GradNorm': lambda: [GradNorm()], 'NoiseScale': lambda: [NoiseScale()], 'Forgetting': lambda: [Forgetting()],
           'DeadReLU': lambda: [DeadReLU()], 'InformationPlane': lambda: [InformationPlane()]}
LIMITS = {'NoiseScale': 1.15, 'InformationPlane': 1.10}

def instrument(cb, acc, clock=time.perf_counter):
    "Add the time spent in each event handler of `cb` (and in the forward hooks it registers) to `acc[0]`, on `clock`"
    def timed(f):
        def g(*args, **kwargs):
            t = clock()
            try: return f(*args, **kwargs)
            finally: acc[0] += clock() - t
        return g
    for ev in events:
        if getattr(type(cb), ev, None) is not None: object.__setattr__(cb, ev, timed(getattr(cb, ev)))
    if getattr(type(cb), '_hook', None) is not None:
        mk = cb._hook; object.__setattr__(cb, '_hook', lambda i: timed(mk(i)))
    return cb

def make(kind, cbs, dls, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784,100), nn.ReLU(), nn.Linear(100,10))
    learn = (Learner if kind=='ours' else FastaiLearner)(dls, model, loss_func=nn.CrossEntropyLoss(), opt_func=SGD, lr=0.05, cbs=cbs)
    return learn

def epoch_time(learn, device, clock=time.perf_counter, cbs=None):
    "Time of `fit(1, cbs=cbs)`, with Python's garbage collector run before and paused during it (as `timeit` does)"
    gc.collect(); gc.disable()
    try:
        if device.type=='cuda': torch.cuda.synchronize()
        t = clock()
        with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=cbs)
        if device.type=='cuda': torch.cuda.synchronize()
        return clock()-t
    finally: gc.enable()

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', choices=['cpu','cuda']); p.add_argument('--learner', default='both', choices=['ours','fastai','both'])
    p.add_argument('--reps', type=int, default=7); p.add_argument('--n', type=int, default=60000); p.add_argument('--threads', type=int, default=0)
    p.add_argument('--clock', default='wall', choices=['wall','cpu'], help="'cpu': process CPU time, steadier on a shared CPU (use with --threads 1)")
    p.add_argument('--only', nargs='*', default=None, help="callbacks to time (with the three reference runs), e.g. --only InformationPlane")
    a = p.parse_args()
    configs = {k: v for k,v in CONFIGS.items() if a.only is None or k in a.only or k.startswith(('none', 'no-op'))}
    if a.threads: torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    xt,yt,xv,yv = mnist_splits()
    k = -(-a.n//len(xt)); xt,yt = xt.repeat(k,1,1)[:a.n], yt.repeat(k)[:a.n]
    dls = TensorDataLoaders.from_tensors(xt, yt, xv, yv, bs=256, device=device, flatten=True, seed=0)
    print(f'device {device} ({torch.cuda.get_device_name() if device.type=="cuda" else f"{torch.get_num_threads()} threads"}), '
          f'{a.n} images/epoch, bs 256, MLP 784-100-10, {a.reps} interleaved rounds, median {a.clock} seconds per epoch')
    for kind in (['ours','fastai'] if a.learner=='both' else [a.learner]):
        learn = make(kind, [], dls)        # one model for all: its memory layout is not part of the comparison
        cbs = {nm: mk() for nm,mk in configs.items()}
        accs = {nm: [0.] for nm in configs}
        for nm in configs:
            for cb in cbs[nm]: instrument(cb, accs[nm], time.perf_counter if a.clock=='wall' else time.process_time)
        times,own = {nm: [] for nm in configs},{nm: [] for nm in configs}
        for r in range(a.reps+1):   # round 0 warms up
            order = list(cbs.items()); random.Random(r).shuffle(order)
            for nm,cb in order:
                a0 = accs[nm][0]
                t = epoch_time(learn, device, time.perf_counter if a.clock=='wall' else time.process_time, cbs=cb)
                if r: times[nm].append(t); own[nm].append(accs[nm][0] - a0)
        base = [(a_+b_)/2 for a_,b_ in zip(times['none'], times['none (control)'])]   # per round
        noise = max(abs(statistics.median(t/b_ for t,b_ in zip(times[k], base)) - 1) for k in ('none', 'none (control)', 'no-op Callback')) + 1
        print(f'\n{kind} Learner\n{"callback":22}{"s/epoch":>9}{"ratio":>8}{"paired":>8}{"own":>8}{"limit":>7}')
        for nm,ts in times.items():
            m = statistics.median(ts); lim = LIMITS.get(nm.split('(')[0].strip(), 1.05)
            paired = statistics.median(t/b_ for t,b_ in zip(ts, base))
            o = 1 + statistics.median(w/b_ for w,b_ in zip(own[nm], base))   # 1 + (time inside the callback) / (epoch without it)
            ref = nm.startswith('none') or nm.startswith('no-op')
            flag = '' if ref else ('  OVER' if o > lim else '  ok') + ('' if paired <= lim else ' (paired over: noise floor ' + f'{noise:.3f})')
            print(f'{nm:22}{m:9.4f}{m/statistics.median(base):8.3f}{paired:8.3f}{o:8.3f}{"" if ref else f"{lim:7.2f}"}{flag}')

if __name__ == '__main__': main()
