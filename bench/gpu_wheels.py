"""Download, here, the wheels the GPU machine lacks, for `bench/gpu.sh` to install there (it has no network).

The lent GPU machines run Python 3.12 with PyTorch and a scientific stack but without fastai, kornia, nbdev or mlxtend
(`/work/.library/device/KINDS.md` lists what is there). This walks the requirements of our dependencies, skips what
the machine already has, and saves one wheel per missing package in `.whl/` (git-ignored through .git/info/exclude):

    python bench/gpu_wheels.py            # then: run bash bench/gpu.sh on the device with carry=['.whl']
"""
import re, subprocess, sys, zipfile
from pathlib import Path
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT/'.whl'
PLATFORMS = ['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_24_x86_64', 'manylinux_2_17_x86_64',
             'manylinux2014_x86_64', 'manylinux1_x86_64']
ENV = dict(python_version='3.12', python_full_version='3.12.3', sys_platform='linux', platform_system='Linux',
           os_name='posix', platform_machine='x86_64', implementation_name='cpython', platform_python_implementation='CPython',
           extra='')
# what the GPU image already holds (KINDS.md, "Python packages already there"), plus the project itself
THERE = set(map(canonicalize_name, '''absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch
build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core
cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax
fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis
idna imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe matplotlib
mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals networkx ninja numba
numba-cuda numpy numpyro nvidia-ml-py onnx onnx-ir onnxruntime onnxscript opencv-python-headless optax opt-einsum
opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy portalocker
prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing pyproject-hooks pyre-extensions
pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex
requests rich sacrebleu safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece
sentence-transformers setuptools shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch torchaudio torchdiffeq
torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer typing-extensions typing-inspect urllib3
uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp fastai-lesson4'''.split()))
# fastai's text-only dependency: never imported by the vision and callback modules we use
SKIP = {canonicalize_name('spacy')}

def download(req):
    cmd = [sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--python-version', '3.12',
           '--implementation', 'cp', '--abi', 'cp312', '--abi', 'abi3', '--abi', 'none', '-d', str(OUT), str(req)]
    for p in PLATFORMS + ['any']: cmd[cmd.index('-d'):cmd.index('-d')] = ['--platform', p]
    subprocess.run(cmd, check=True)
    name = canonicalize_name(req.name)
    for w in OUT.glob('*.whl'):
        if canonicalize_name(re.split(r'-\d', w.name, 1)[0]) == name: return w
    raise FileNotFoundError(f'no wheel for {req}')

def requires(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
        lines = z.read(meta).decode().splitlines()
    reqs = [Requirement(l.split(':', 1)[1].strip()) for l in lines if l.startswith('Requires-Dist:')]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(ENV)]

def main():
    OUT.mkdir(exist_ok=True)
    pyproject = (ROOT/'pyproject.toml').read_text()
    todo = [Requirement(r) for r in ['fastai==2.8.12', 'kornia', 'mlxtend', 'nbdev>=3.3,<3.4', 'fastprogress', 'execnb']]
    seen = set()
    while todo:
        r = todo.pop(0); n = canonicalize_name(r.name)
        if n in seen or n in THERE or n in SKIP: continue
        seen.add(n)
        w = download(r); print(f'{w.name}')
        todo += requires(w)
    total = sum(w.stat().st_size for w in OUT.glob('*.whl'))
    print(f'{len(list(OUT.glob("*.whl")))} wheels, {total/2**20:.1f} MiB in {OUT} (the device carries at most 64 MiB with the tree)')

if __name__ == '__main__': main()
