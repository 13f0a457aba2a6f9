"""Benchmark: `DigitAugment` vs kornia, fastai `aug_transforms` and torchvision v2 on MNIST-sized batches.

One process, the same input batch `(B,1,28,28)` float in [0,1] on one device for every contender, interleaved repeats
(each repeat times every contender once, in turn), medians, images/s and ratios.

    python bench/augment.py [--device cpu|cuda] [--bs 1024 8192] [--repeats N] [--threads T]

Contenders (all per-sample unless said):
  ours         DigitAugment defaults: rotate, scale, aspect, shear, translate, elastic (alpha 34 px, sigma 4 px),
               brightness, contrast; one grid_sample
  ours+erase   the same plus per-image erasing (p=0.5)
  kornia       RandomAffine + RandomElasticTransform + RandomBrightness + RandomContrast, per-sample parameters
               (elastic kernel 25x25 with sigma 4 px, alpha in kornia's grid units = 34 px)
  fastai       aug_transforms(do_flip=False) (warp, rotate, zoom, brightness, contrast; no elastic) as fastai applies
               batch tfms: a Pipeline with split_idx=0 called on a TensorImage batch
  tv2          torchvision.transforms.v2 RandomAffine + ElasticTransform, ONE parameter set per batch
"""
import argparse, time, statistics, warnings
warnings.filterwarnings('ignore')
import torch

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

def make_contenders(device):
    from fastai_lesson4.augment import DigitAugment
    from fastai.vision.all import Pipeline, aug_transforms, TensorImage
    import kornia.augmentation as K
    from torchvision.transforms import v2
    res = {}
    ours = DigitAugment(seed=0)
    res['ours'] = lambda x: ours(x)
    ours_e = DigitAugment(seed=0, p_erase=0.5)
    res['ours+erase'] = lambda x: ours_e(x)
    kor = torch.nn.Sequential(
        K.RandomAffine(degrees=15., translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10., padding_mode='zeros', p=0.75),
        K.RandomElasticTransform(kernel_size=(25, 25), sigma=(4., 4.), alpha=(34*2/28, 34*2/28), p=0.5),
        K.RandomBrightness(brightness=(0.9, 1.1), p=0.5),
        K.RandomContrast(contrast=(0.8, 1.2), p=0.5)).to(device)
    res['kornia'] = lambda x: kor(x)
    fa = Pipeline(aug_transforms(do_flip=False), split_idx=0)
    res['fastai'] = lambda x: fa(TensorImage(x))
    tv = v2.Compose([v2.RandomAffine(degrees=15., translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10.),
                     v2.ElasticTransform(alpha=68., sigma=4.)])  # torchvision's alpha: 2*pixels
    res['tv2'] = lambda x: tv(x)
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--bs', type=int, nargs='+', default=[1024, 8192])
    ap.add_argument('--repeats', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (CPU)')
    ap.add_argument('--only', nargs='+', default=None, help='subset of contenders')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    from fastai_lesson4.basics import mnist_sample
    digits = mnist_sample()[0]
    cons = make_contenders(device)
    if a.only: cons = {k: v for k, v in cons.items() if k in a.only}
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    print(f'# augmentation benchmark on {name}; torch {torch.__version__}; {a.repeats} interleaved repeats, median')
    for bs in a.bs:
        idx = torch.arange(bs) % len(digits)
        x = (digits[idx].float()/255)[:, None].to(device).contiguous()
        with torch.no_grad():
            for f in cons.values():
                for _ in range(a.warmup): f(x)
            sync(device)
            times = {k: [] for k in cons}
            for r in range(a.repeats):
                for k, f in cons.items():
                    sync(device); t = time.perf_counter()
                    y = f(x)
                    sync(device); times[k].append(time.perf_counter() - t)
                    assert y.shape == x.shape, (k, y.shape)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f'\n## bs {bs}\n')
        print('| contender | ms/batch | images/s | ours is x faster |')
        print('|---|---:|---:|---:|')
        for k, m in med.items():
            ratio = m/med['ours'] if 'ours' in med else float('nan')
            print(f'| {k} | {m*1e3:.2f} | {bs/m:,.0f} | {ratio:.2f} |')

if __name__ == '__main__': main()
