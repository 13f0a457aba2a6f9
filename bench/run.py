"""The fastai_lesson4 benchmark suite: every comparison against its anchor, in one process, in one table.

    python bench/run.py [--quick] [--device cpu|cuda] [--threads T] [--only SECTION ...]

Sections (each: contenders interleaved over `--repeats` rounds, medians, ratios to the anchor measured in this run):
  learner     Learner overhead: MLP 784-100-10, bs 256, device batches, 60,000 images/epoch: ours vs a raw PyTorch loop vs
              fastai's Learner (target: ours <= 1.05x the raw loop's time)
  captured    the training step alone (MLP 784-100-10, bs 256, device batches, SGD, no validation): a raw eager loop vs
              the same loop captured by hand in one CUDA graph (GPU) vs our Learner eager, with CompileStep and with
              CudaGraphStep (GPU) (target on GPU: captured >= 5x the raw eager loop)
  data        iterate one epoch: our TensorDataLoaders vs torch DataLoader(TensorDataset) vs fastai's DataBlock over PNG
              folders (targets: >= 5x torch, >= 100x fastai)
  augment     DigitAugment vs kornia vs fastai aug_transforms vs torchvision v2, bs 1024 (and 8192 without --quick)
              (target on GPU: >= 1M images/s at bs 1024)
  e2e         a training epoch with augmentation, MLP, bs 256: ours (TensorDataLoaders + DigitAugment + our Learner), eager
              and with CompileStep, vs the stock fastai path (PNG DataBlock + aug_transforms + fastai Learner)
              (targets: >= 20x on CPU, >= 100x on GPU)
  accuracy    time to 98% on the sample's 1,000 held-out digits: small CNN + DigitAugment + one-cycle, wall clock from
              loading the data, with the seed and epochs (target: <= 60 s on 2 CPU cores); runs on all torch threads
  cv          the default recipe of `lesson4 train` (`fastai_lesson4.models.train_digits`), 5-fold cross-validated on the
              5,000 sample digits (every digit scored once by a model that never saw it): accuracy over all digits, mean
              and spread over folds, wall time per fold (target: >= 99.0%); runs on all torch threads
  cli         `lesson4 train` with its defaults in a fresh process: wall clock, start-up and pictures included, and
              its accuracy on the 1,000 held-out digits (target: <= 60 s on 2 CPU cores)
  growth      cost growth of our pipeline (TensorDataLoaders + our Learner + MLP): images/s at bs 64..4096, and
              per-batch time and memory at 5k, 60k, 600k images (the sample repeated)

Writes `bench/out/results-<device>.json` (every row, with the machine, versions and date; `--out` to choose; the
recorded runs that `bench/RESULTS.md` quotes are the tracked `bench/results-*.json`). The stock fastai paths are timed
on `--fastai-batches` batches and reported in images/s, like everything else.
"""
import argparse, contextlib, copy, datetime, gc, io, json, os, platform, statistics, sys, tempfile, time, warnings
from functools import partial
from pathlib import Path
warnings.filterwarnings('ignore')
import logging; logging.getLogger('torch.utils.cpp_extension').setLevel(logging.ERROR)   # 'No CUDA runtime' note when compiling on a CPU
import torch, torch.nn as nn, torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE)); sys.path.insert(0, str(HERE.parent))
import learner_overhead as lo                       # raw loop / ours / fastai on the same device batches
from augment import make_contenders                 # the augmentation contenders
from common import TrainOnly, mlp
from fastai_lesson4.basics import mnist_splits
from fastai_lesson4.data import TensorDataLoaders, MnistData, get_mnist, save_png_folder, MNIST_MEAN, MNIST_STD
from fastai_lesson4.augment import DigitAugment
from fastai_lesson4.learner import Learner, Callback
from fastai_lesson4.capture import CompileStep, CudaGraphStep
from fastai_lesson4.models import digit_model

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
ap.add_argument('--quick', action='store_true', help='fewer repeats, smaller sizes (about 2 minutes on 2 CPU cores)')
ap.add_argument('--threads', type=int, default=None, help="torch threads for the comparisons (default 1 on CPU: steadier on a shared box)")
ap.add_argument('--repeats', type=int, default=None, help='interleaved rounds per section (default 5, quick 3)')
ap.add_argument('--fastai-batches', type=int, default=None, help='batches timed on the stock fastai paths (default 20, quick 8)')
ap.add_argument('--only', nargs='+', default=None, choices='learner captured data augment e2e accuracy cv cli growth'.split())
ap.add_argument('--out', default=None, help='JSON file (default bench/out/results-<device>.json)')
args = ap.parse_args()
dev = torch.device(args.device)
CUDA = dev.type == 'cuda'
ALL_THREADS = torch.get_num_threads()
THREADS = args.threads or (ALL_THREADS if CUDA else 1)
REPS = args.repeats or (3 if args.quick else 5)
FB = args.fastai_batches or (8 if args.quick else 20)
torch.set_num_threads(THREADS)

def sync():
    if CUDA: torch.cuda.synchronize(dev)
def want(s): return args.only is None or s in args.only

OUTFILE = Path(args.out) if args.out else HERE/'out'/f'results-{dev.type}.json'
def save():
    "Write every row so far (after each section: a run stopped by a time limit keeps what it measured)"
    OUTFILE.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUTFILE.with_name(f'.{OUTFILE.name}.tmp')
    tmp.write_text(json.dumps(dict(meta=META, rows=ROWS), indent=1) + '\n'); os.replace(tmp, OUTFILE)

@contextlib.contextmanager
def guarded(section):
    "Run one section; an error is printed and recorded as a failed row, and the other sections still run"
    try:
        yield
        save()
    except Exception as e:
        import traceback; traceback.print_exc()
        ROWS.append(dict(section=section, name='error', value=None, unit=None, anchor=None, ratio=None, target='runs', passed=False,
                         error=f'{type(e).__name__}: {e}'))
        say(f'  ERROR in {section}: {type(e).__name__}: {e}')
        save()
def say(*a): print(*a, flush=True)

ROWS = []
def row(section, name, value, unit, anchor=None, ratio=None, target=None, ok=None, **extra):
    "Record one result; `ratio` compares with `anchor` as the row's name says (img/s over img/s unless it says 'time')"
    r = dict(section=section, name=name, value=value, unit=unit, anchor=anchor, ratio=ratio, target=target,
             passed=ok, **extra)
    ROWS.append(r)
    rs = '' if ratio is None else f'{ratio:.2f}x'
    say(f'  {name:<58} {value:>14,.1f} {unit:<9} {rs:>9}  {"" if anchor is None else "vs " + anchor}'
        f'{"" if ok is None else ("  PASS" if ok else "  FAIL") + " (" + target + ")"}')

def interleaved(fns, reps, warmup=1):
    "Run each of `fns` (name -> f returning a work count) `warmup` times, then `reps` rounds in rotating order; median rate"
    for f in fns.values():
        for _ in range(warmup): f()
    names, res = list(fns), {k: [] for k in fns}
    for r in range(reps):
        for k in names[r % len(names):] + names[:r % len(names)]:
            sync(); t = time.perf_counter(); n = fns[k](); sync()
            res[k].append(n / (time.perf_counter() - t))
    return {k: statistics.median(v) for k, v in res.items()}

# ------------------------------------------------------------------ shared data
s = get_mnist('sample')
x_all, y_all = torch.cat([s.x_train, s.x_valid]), torch.cat([s.y_train, s.y_valid])     # the 5,000 digits
def tiled(n): k = -(-n // len(x_all)); return x_all.repeat(k, 1, 1)[:n], y_all.repeat(k)[:n]
N = 20_000 if args.quick else 60_000
x_n, y_n = tiled(N)
_png = None
def png_folder():
    "The 5,000 digits as PNG files in fastai's URLs.MNIST layout (written once)"
    global _png
    if _png is None:
        t = time.perf_counter()
        _png = save_png_folder(MnistData(x_all, y_all, s.x_valid, s.y_valid, s.vocab), Path(tempfile.mkdtemp())/'mnist_png')
        say(f'  (wrote {len(x_all) + len(s.x_valid):,} PNG files in {time.perf_counter()-t:.1f}s for the fastai paths)')
    return _png
def stock_fastai_dls(aug):
    "fastai's stock MNIST pipeline: PNG files -> DataBlock (PILImageBW, CategoryBlock), aug_transforms as batch tfms"
    from fastai.vision.all import (DataBlock, ImageBlock, CategoryBlock, PILImageBW, get_image_files, GrandparentSplitter,
                                   parent_label, aug_transforms)
    p = png_folder()
    db = DataBlock(blocks=(ImageBlock(cls=PILImageBW), CategoryBlock), get_items=get_image_files,
                   splitter=GrandparentSplitter('training', 'testing'), get_y=parent_label,
                   batch_tfms=aug_transforms(do_flip=False) if aug else None)
    return db.dataloaders(p, bs=256, num_workers=0, device=dev)

name = torch.cuda.get_device_name(dev) if CUDA else f'CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)'
import fastai, kornia, torchvision
META = dict(device=name, device_type=dev.type, date=datetime.date.today().isoformat(), torch=torch.__version__,
            fastai=fastai.__version__, kornia=kornia.__version__, torchvision=torchvision.__version__,
            python=platform.python_version(), threads=THREADS, quick=args.quick, repeats=REPS, images_per_epoch=N)
say(f'# fastai_lesson4 benchmarks on {name}; torch {torch.__version__}, fastai {fastai.__version__}; {THREADS} torch '
    f'thread(s); {REPS} interleaved rounds, medians; {N:,} images per epoch{" (quick)" if args.quick else ""}')
say(f'  {"":<58} {"value":>14} {"unit":<9} {"ratio":>9}')

# ------------------------------------------------------------------ learner overhead
if want('learner'):
    with guarded('learner'):
        say('\n## learner: fit() of MLP 784-100-10 on device batches (bs 256), train + validation, same SGD and metric')
        dls = lo.make_data(args.device, N // 4000)
        torch.manual_seed(0)
        m0 = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10)).to(dev)
        n_img = sum(len(b[1]) for b in dls.train) + sum(len(b[1]) for b in dls.valid)
        def fit_with(f):
            def g():
                with contextlib.redirect_stdout(io.StringIO()): f(copy.deepcopy(m0), dls, 1, 0.1)
                return n_img
            return g
        r = interleaved({'raw': fit_with(lo.raw_fit), 'ours': fit_with(lo.ours_fit), 'fastai': fit_with(lo.fastai_fit)}, 2*REPS)
        row('learner', 'raw PyTorch loop', r['raw'], 'img/s')
        t_ratio = r['raw'] / r['ours']
        row('learner', 'ours: Learner.fit (time / raw time)', r['ours'], 'img/s', 'raw', t_ratio, 'time <= 1.05x raw', t_ratio <= 1.05)
        row('learner', "fastai's Learner.fit (time / raw time)", r['fastai'], 'img/s', 'raw', r['raw'] / r['fastai'])
        row('learner', 'ours is faster than fastai by', r['ours'], 'img/s', 'fastai', r['ours'] / r['fastai'])

# ------------------------------------------------------------------ captured step
if want('captured'):
    with guarded('captured'):
        EP = 3
        say(f'\n## captured: training step only, MLP 784-100-10 on device batches (bs 256), torch SGD, fits of {EP} epochs')
        dls = lo.make_data(args.device, N // 4000)
        full = [b for b in dls.train if len(b[1]) == 256]
        torch.manual_seed(0)
        m0 = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10)).to(dev)
        n_img = EP*sum(len(b[1]) for b in dls.train)
        def raw_eager():
            m = copy.deepcopy(m0); opt = torch.optim.SGD(m.parameters(), lr=0.1)
            def f():
                for _ in range(EP):
                    for xb, yb in dls.train:
                        F.cross_entropy(m(xb), yb).backward(); opt.step(); opt.zero_grad()
                return n_img
            return f
        def raw_graph():
            "PyTorch's whole-network capture recipe: forward + loss + backward + SGD step in one CUDA graph, replayed per batch"
            m = copy.deepcopy(m0); opt = torch.optim.SGD(m.parameters(), lr=0.1)
            xs, ys = full[0][0].clone(), full[0][1].clone()
            st = torch.cuda.Stream(); st.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(st):
                for _ in range(3): opt.zero_grad(set_to_none=True); F.cross_entropy(m(xs), ys).backward(); opt.step()
            torch.cuda.current_stream().wait_stream(st)
            g = torch.cuda.CUDAGraph(); opt.zero_grad(set_to_none=True)
            with torch.cuda.graph(g): F.cross_entropy(m(xs), ys).backward(); opt.step()
            def f():
                for _ in range(EP):
                    for xb, yb in full: xs.copy_(xb); ys.copy_(yb); g.replay()
                return EP*len(full)*256
            return f
        def ours(cbs):
            learn = Learner(dls, copy.deepcopy(m0), F.cross_entropy, opt_func=torch.optim.SGD, lr=0.1, cbs=cbs)
            def f():
                with learn.no_bar(), learn.no_logging(): learn.fit(EP, cbs=TrainOnly())
                return n_img
            return learn, f
        fns = {'raw': raw_eager(), 'ours': ours([])[1]}
        lc, fns['compiled'] = ours([CompileStep()])
        if CUDA:
            fns['raw graph'] = raw_graph()
            lg, fns['graph'] = ours([CudaGraphStep()])
        r = interleaved(fns, REPS)
        row('captured', 'raw eager loop', r['raw'], 'img/s')
        if CUDA: row('captured', 'raw loop captured by hand in one CUDA graph', r['raw graph'], 'img/s', 'raw', r['raw graph']/r['raw'])
        row('captured', 'ours, eager', r['ours'], 'img/s', 'raw', r['ours']/r['raw'])
        row('captured', 'ours + CompileStep', r['compiled'], 'img/s', 'raw', r['compiled']/r['raw'], *(('>= 5x on GPU', r['compiled']/r['raw'] >= 5) if CUDA else ()),
            compile_failed=lc.compile_step.failed, n_compiled=lc.compile_step.n_compiled, n_eager=lc.compile_step.n_eager)
        row('captured', 'ours + CompileStep vs ours eager', r['compiled'], 'img/s', 'ours eager', r['compiled']/r['ours'])
        if CUDA:
            row('captured', 'ours + CudaGraphStep', r['graph'], 'img/s', 'raw', r['graph']/r['raw'], '>= 5x on GPU', r['graph']/r['raw'] >= 5,
                capture_failed=lg.cuda_graph_step.failed, n_replayed=lg.cuda_graph_step.n_replayed)

# ------------------------------------------------------------------ data pipeline
if want('data'):
    with guarded('data'):
        from torch.utils.data import DataLoader, TensorDataset
        say(f'\n## data: iterate one training epoch, bs 256 (the fastai DataBlock over PNG files: {FB} batches)')
        ours = TensorDataLoaders.from_tensors(x_n, y_n, s.x_valid, s.y_valid, bs=256, device=dev, seed=0, drop_last=False)
        def norm(x): return ((x.float()/255 - MNIST_MEAN)/MNIST_STD).unsqueeze(1)
        tdl = DataLoader(TensorDataset(norm(x_n), y_n), batch_size=256, shuffle=True, pin_memory=CUDA)
        fdls = stock_fastai_dls(aug=False)
        def it_ours():
            for xb, yb in ours.train: pass
            return N
        def it_torch():
            for xb, yb in tdl: xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
            return N
        def it_fastai():
            it, n = iter(fdls.train), 0
            for _ in range(FB):
                try: xb, yb = next(it)
                except StopIteration: it = iter(fdls.train); xb, yb = next(it)
                n += len(xb)
            return n
        r = interleaved({'ours': it_ours, 'torch': it_torch, 'fastai': it_fastai}, REPS)
        row('data', 'ours: TensorDataLoaders', r['ours'], 'img/s')
        row('data', 'torch DataLoader(TensorDataset)', r['torch'], 'img/s', 'torch', r['ours']/r['torch'], '>= 5x', r['ours']/r['torch'] >= 5)
        row('data', 'fastai DataBlock over PNG (workers=0)', r['fastai'], 'img/s', 'fastai', r['ours']/r['fastai'], '>= 100x',
            r['ours']/r['fastai'] >= 100)
        if CUDA:
            del ours; torch.cuda.empty_cache(); sync()
            base = torch.cuda.memory_allocated(dev); torch.cuda.reset_peak_memory_stats(dev)
            m = TensorDataLoaders.from_tensors(x_n, y_n, s.x_valid, s.y_valid, bs=256, device=dev, seed=0, drop_last=False)
            data = torch.cuda.memory_allocated(dev) - base
            for xb, yb in m.train: pass
            del xb, yb; sync()
            extra = (torch.cuda.max_memory_allocated(dev) - base - data) / (256*784*4 + 256*8)
            row('data', 'peak device memory beyond the dataset', extra, 'batches', target='<= 3 batches', ok=extra <= 3)
            del m

# ------------------------------------------------------------------ augmentation
if want('augment'):
    with guarded('augment'):
        say('\n## augment: one batch (B,1,28,28) in [0,1], per-sample parameters (torchvision v2: one set per batch)')
        cons = make_contenders(dev)
        cons.pop('ours+erase')
        for bs in ([1024] if args.quick else [1024, 8192]):
            x = (x_all[torch.arange(bs) % len(x_all)].float()/255)[:, None].to(dev).contiguous()
            def run(f):
                def g():
                    with torch.no_grad(): f(x)
                    return bs
                return g
            r = interleaved({k: run(f) for k, f in cons.items()}, 2*REPS if CUDA else REPS, warmup=2)
            tgt = dict(target='>= 1M img/s on GPU', ok=r['ours'] >= 1e6) if CUDA and bs == 1024 else {}
            row('augment', f'ours: DigitAugment, bs {bs}', r['ours'], 'img/s', **tgt)
            for k, lbl in (('kornia', 'kornia (affine+elastic+brightness+contrast)'), ('fastai', 'fastai aug_transforms (no elastic)'),
                           ('tv2', 'torchvision v2 affine+elastic (per batch)')):
                row('augment', f'{lbl}, bs {bs}', r[k], 'img/s', k, r['ours']/r[k])

# ------------------------------------------------------------------ end-to-end epoch with augmentation
if want('e2e'):
    with guarded('e2e'):
        from fastai.learner import Learner as FastaiLearner
        from fastai.optimizer import OptimWrapper
        import fastai.callback.progress
        say(f'\n## e2e: training epoch with augmentation, MLP 784-100-10, bs 256, torch Adam for both (stock fastai path: {FB} batches)')
        torch.manual_seed(0)
        def ours_learner(compiled):
            dls = TensorDataLoaders.from_tensors(x_n, y_n, s.x_valid, s.y_valid, bs=256, device=dev, seed=0, batch_tfms=[DigitAugment(seed=0)])
            learn = Learner(dls, mlp().to(dev), nn.CrossEntropyLoss(), opt_func=torch.optim.Adam, lr=1e-3, cbs=[CudaGraphStep()] if compiled == 'graph' else [CompileStep()] if compiled else None)
            def f():
                with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=TrainOnly())
                return len(dls.train)*256
            return learn, f
        (le, f_eager), (lc, f_comp) = ours_learner(False), ours_learner(True)
        if CUDA: lg, f_graph = ours_learner('graph')
        rdls = TensorDataLoaders.from_tensors(x_n, y_n, s.x_valid, s.y_valid, bs=256, device=dev, seed=0, batch_tfms=[DigitAugment(seed=0)])
        rm = mlp().to(dev); ropt = torch.optim.Adam(rm.parameters(), lr=1e-3)
        def f_raw():
            "The floor: a hand-written loop over the same loader, model and optimizer (no Learner, no callbacks)"
            for xb, yb in rdls.train:
                loss = F.cross_entropy(rm(xb), yb); loss.backward(); ropt.step(); ropt.zero_grad()
            return len(rdls.train)*256
        fdls = stock_fastai_dls(aug=True)
        fb = min(FB, len(fdls.train))
        fl = FastaiLearner(fdls, mlp().to(dev), nn.CrossEntropyLoss(), opt_func=partial(OptimWrapper, opt=torch.optim.Adam), lr=1e-3)
        def f_fastai():
            with fl.no_bar(), fl.no_logging(): fl.fit(1, cbs=TrainOnly(fb))
            return fb*256
        t = time.perf_counter(); f_comp(); say(f'  (CompileStep: first epoch, compiling included, {time.perf_counter()-t:.1f}s)')
        r = interleaved(dict(eager=f_eager, compiled=f_comp, raw=f_raw, fastai=f_fastai, **(dict(graph=f_graph) if CUDA else {})), REPS)
        tgt = '>= 100x' if CUDA else '>= 20x'; k = 100 if CUDA else 20
        row('e2e', 'ours, eager', r['eager'], 'img/s', 'fastai', r['eager']/r['fastai'], tgt, r['eager']/r['fastai'] >= k)
        row('e2e', 'ours, CompileStep', r['compiled'], 'img/s', 'fastai', r['compiled']/r['fastai'], tgt, r['compiled']/r['fastai'] >= k,
            compile_failed=lc.compile_step.failed, n_compiled=lc.compile_step.n_compiled, n_eager=lc.compile_step.n_eager)
        if CUDA:
            row('e2e', 'ours, CudaGraphStep', r['graph'], 'img/s', 'fastai', r['graph']/r['fastai'], tgt, r['graph']/r['fastai'] >= k,
                capture_failed=lg.cuda_graph_step.failed, n_replayed=lg.cuda_graph_step.n_replayed)
        row('e2e', 'ours, CompileStep vs ours eager', r['compiled'], 'img/s', 'eager', r['compiled']/r['eager'])
        row('e2e', 'raw loop over our loader + DigitAugment (no Learner)', r['raw'], 'img/s', 'fastai', r['raw']/r['fastai'])
        row('e2e', 'ours, eager: time / raw loop time', r['eager'], 'img/s', 'raw', r['raw']/r['eager'])
        row('e2e', 'stock fastai: PNG DataBlock + aug_transforms + Learner', r['fastai'], 'img/s')
        del le, lc, fl

# ------------------------------------------------------------------ time to accuracy
if want('accuracy'):
    with guarded('accuracy'):
        from fastai.metrics import accuracy
        torch.set_num_threads(ALL_THREADS)
        seeds, epochs = ([42] if args.quick else [42, 0, 1, 2, 3]), 10
        say(f'\n## accuracy: CNN (4 stride-2 convs) + DigitAugment, bs 128, one-cycle lr 1e-2, {epochs} epochs; '
            f'{ALL_THREADS} torch threads; 4,000 training digits, 1,000 held out')
        for seed in seeds:
            t0 = time.perf_counter()
            torch.manual_seed(seed)
            xt, yt, xv, yv = mnist_splits()
            dls = TensorDataLoaders.from_tensors(xt, yt, xv, yv, bs=128, device=dev, seed=seed, batch_tfms=[DigitAugment(seed=seed)])
            learn = Learner(dls, digit_model('cnn').to(dev), nn.CrossEntropyLoss(), metrics=accuracy)
            times = []
            class Clock(Callback):
                def after_epoch(self): times.append(time.perf_counter() - t0)
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 1e-2, cbs=Clock())
            accs = [float(v[2]) for v in learn.recorder.values]
            first = next((i for i, a in enumerate(accs) if a >= 0.98), None)
            wall = time.perf_counter() - t0
            row('accuracy', f'seed {seed}: final accuracy after {epochs} epochs', accs[-1]*100, '%', target='>= 98%', ok=accs[-1] >= 0.98,
                seed=seed, epochs=epochs, accuracies=accs, epoch_times=times)
            row('accuracy', f'seed {seed}: wall clock, data loading to the end of epoch {epochs}', wall, 's', target='<= 60 s',
                ok=wall <= 60 and accs[-1] >= 0.98, seed=seed)
            if first is not None: row('accuracy', f'seed {seed}: first reached 98% at epoch {first+1}', times[first], 's', seed=seed)
        torch.set_num_threads(THREADS)

# ------------------------------------------------------------------ the default recipe, cross-validated
if want('cv'):
    with guarded('cv'):
        from fastai_lesson4.models import cross_validate, RECIPE
        cv_threads = args.threads or ALL_THREADS   # --threads 1 is faster on a machine shared with other work
        torch.set_num_threads(cv_threads)
        k = 5
        folds = [0] if args.quick else list(range(k))
        say(f'\n## cv: the default recipe {RECIPE}, {k}-fold cross-validation on the 5,000 sample digits '
            f'(folds {folds}); {cv_threads} torch thread(s)')
        cv = cross_validate(x_all, y_all, k=k, folds=folds, device=dev, progress=True)
        fa = torch.tensor(cv.fold_accuracies)*100
        se = (cv.accuracy*(1-cv.accuracy)/cv.n_scored)**0.5*100
        row('cv', f'accuracy on all {cv.n_scored:,} digits, each scored by a model that never saw it', cv.accuracy*100, '%',
            target='>= 99.0%', ok=cv.accuracy >= 0.99, standard_error=se, fold_accuracies=cv.fold_accuracies, folds=folds,
            recipe=RECIPE, threads=cv_threads, load_average=os.getloadavg())
        if len(folds) > 1:
            row('cv', f'mean over {len(folds)} folds (sd {fa.std().item():.2f}, min {fa.min().item():.1f}, max {fa.max().item():.1f})',
                fa.mean().item(), '%', fold_sd=fa.std().item())
        row('cv', f'training + scoring one fold (4,000 digits, median of {len(folds)})', statistics.median(cv.fold_walls), 's',
            fold_walls=cv.fold_walls, load_average=os.getloadavg())
        torch.set_num_threads(THREADS)

# ------------------------------------------------------------------ `lesson4 train` as a user runs it
if want('cli'):
    with guarded('cli'):
        import shutil, subprocess
        say(f'\n## cli: `lesson4 train` with its defaults in a fresh process, start-up and pictures included')
        exe = shutil.which('lesson4')
        cmd = [exe] if exe else [sys.executable, '-m', 'fastai_lesson4.cli']
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, PYTHONPATH=str(HERE.parent), MPLBACKEND='Agg')
            import resource
            ru0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            p = subprocess.run(cmd + ['train', '--out', d, '--device', dev.type], capture_output=True, text=True, env=env)
            wall, ru1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)   # the work, whatever else runs
            ok = p.returncode == 0
            m = json.loads(Path(d, 'metrics.json').read_text()) if ok else {}
        if not ok: say(p.stderr[-2000:])
        row('cli', f"`lesson4 train` with its defaults (arch {m.get('args', {}).get('arch')}): wall clock, start-up included", wall, 's',
            target='<= 60 s', ok=ok and wall <= 60, returncode=p.returncode, load_average=os.getloadavg())
        row('cli', f'the same run: CPU time (user + system, all threads; load average {os.getloadavg()[0]:.1f} on '
            f'{os.cpu_count()} cores)', cpu, 's', load_average=os.getloadavg())
        if ok:
            fin = m['final']; acc = [v for kk, v in fin.items() if kk.endswith('accuracy')]
            if acc: row('cli', '`lesson4 train` with its defaults: accuracy on the 1,000 held-out sample digits', acc[-1]*100, '%')
        torch.set_num_threads(THREADS)

# ------------------------------------------------------------------ cost growth
if want('growth'):
    with guarded('growth'):
        nb = 50 if args.quick else 150
        say(f'\n## growth: our pipeline (TensorDataLoaders + our Learner + MLP, SGD, no augmentation), {nb} training batches timed')
        def rss(): return int(Path('/proc/self/statm').read_text().split()[1])*os.sysconf('SC_PAGE_SIZE') if Path('/proc/self/statm').exists() else 0
        def timer(dls, n):
            learn = Learner(dls, mlp().to(dev), nn.CrossEntropyLoss(), opt_func=torch.optim.SGD, lr=0.1)
            def f():
                with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=TrainOnly(n))
                return n*dls.train.bs
            return f
        bss = [64, 256, 1024] if args.quick else [64, 256, 1024, 4096]
        fns = {}
        for bs in bss:
            dls = TensorDataLoaders.from_tensors(x_n, y_n, s.x_valid, s.y_valid, bs=bs, device=dev, seed=0)
            fns[bs] = timer(dls, min(nb, len(dls.train)))
        r = interleaved(fns, REPS)
        for bs in bss: row('growth', f'bs {bs}, {N:,} images', r[bs], 'img/s', 'bs 256', r[bs]/r[256])
        sizes = [5_000, 60_000] if args.quick else [5_000, 60_000, 600_000]
        fns.clear(); del dls; gc.collect()
        mem = {}
        for n in sizes:
            gc.collect()
            if CUDA: sync(); torch.cuda.reset_peak_memory_stats(dev); base = torch.cuda.memory_allocated(dev)
            before = rss()
            x, y = tiled(n)
            dls = TensorDataLoaders.from_tensors(x, y, s.x_valid, s.y_valid, bs=256, device=dev, seed=0)
            ds_bytes = sum(t.numel()*t.element_size() for d in (dls.train_ds, dls.valid_ds) for t in (d.x, d.y))
            f = timer(dls, min(nb, len(dls.train))); f()
            if CUDA: sync(); mem[n] = (ds_bytes, torch.cuda.max_memory_allocated(dev) - base)
            else: mem[n] = (ds_bytes, rss() - before)
            fns[n] = f
            del x, y
        r = interleaved(fns, REPS)
        kind = 'CUDA peak' if CUDA else 'RSS growth'
        for n in sizes:
            ds, used = mem[n]
            row('growth', f'{n:>7,} images, bs 256 (data {ds/2**20:.0f} MiB, {kind} {used/2**20:.0f} MiB)', 256/r[n]*1e6,
                'us/batch', '5,000 (speed)', r[n]/r[sizes[0]], dataset_mib=ds/2**20, memory_mib=used/2**20, memory_kind=kind)

save(); out = OUTFILE
fails = [f"{r['section']}: {r['name']}" for r in ROWS if r['passed'] is False]
say(f'\nwrote {out}; targets: {sum(r["passed"] is True for r in ROWS)} passed, {len(fails)} failed' + ''.join(f'\n  FAIL {f}' for f in fails))
