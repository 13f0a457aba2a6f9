"""`lesson4 serve`'s speed, measured side by side in one run (issue 26); prints ratios and medians, asserts nothing.

1. Training with the page open vs the same training with no server. The trainer (`LiveTrainer`: our Learner, SGD, the
   embedded digits, the live callbacks) runs inside the real app served by uvicorn in this process, while a client
   thread reads the event stream as a page does; its steps per second over a window are compared with `Learner.fit`
   of the same model on the same loaders with no server and no live callbacks. The two are interleaved, `--repeats`
   times, for the linear model at bs 64 and the ReLU net 784-100-10; medians are reported. Torch uses one thread in
   both (as the trainer does).
2. The stream, from the same client: frames per second (status events: one per look at the trainer that changed
   something) and the largest event in bytes.
3. The landscape: a 21x21 grid on 1,000 digits (`live.grid_loss`) for each model, median of `--repeats`; and the
   longest pause between two training steps while the plane is redrawn again and again.
4. Time to interactive: `lesson4 serve --port 0 --no-browser` in a subprocess, then headless Chromium loads the page
   until it shows the step counter: seconds from the printed address (skipped without chromium and playwright).

    python bench/serve.py [--secs 4] [--repeats 3]
"""
import argparse, json, os, re, socket, statistics, subprocess, sys, threading, time, urllib.request, warnings
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
import torch
from fastai.optimizer import SGD
from fastai_lesson4.learner import Learner, Recorder, ProgressCallback
from fastai_lesson4.trainer import LiveTrainer, MODELS
from fastai_lesson4.models import digit_model
from fastai_lesson4.live import grid_loss, fixed_items, random_plane
from fastai_lesson4.landscape import flat_params
from fastai_lesson4.serve import serve_app
from common import TrainOnly

def start(app):
    import uvicorn
    sock = socket.socket(); sock.bind(('127.0.0.1', 0)); sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level='warning', timeout_graceful_shutdown=1))
    threading.Thread(target=server.run, kwargs=dict(sockets=[sock]), daemon=True).start()
    while not server.started: time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}/", server

class Page(threading.Thread):
    "Reads the event stream as a page would; counts events and their sizes"
    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.events, self.stop = url, [], False
    def run(self):
        with urllib.request.urlopen(self.url + 'events', timeout=30) as r:
            cur, size = None, 0
            for line in r:
                size += len(line)
                if line.startswith(b'event: '): cur = line[7:].strip().decode()
                elif line == b'\n':
                    self.events.append((time.time(), cur, size))
                    cur, size = None, 0
                if self.stop: return

def served_rate(tr, url, settings, secs):
    "Steps/s of the trainer in the server with one page streaming, and the page's frames/s and largest event"
    tr.control('reset', **settings)
    run = tr.run
    while tr.run == run: time.sleep(0.01)   # wait for the new model
    page = Page(url)
    page.start()
    tr.control('play')
    time.sleep(0.5)   # warm up
    s0, t0 = tr.step, time.time()
    time.sleep(secs)
    s1, t1 = tr.step, time.time()
    tr.control('pause')
    page.stop = True
    ev = [e for e in page.events if t0 <= e[0] <= t1]
    fps = sum(1 for e in ev if e[1] == 'status')/(t1 - t0)
    return (s1 - s0)/(t1 - t0), fps, max(e[2] for e in page.events)

def plain_rate(tr, settings, secs):
    "Steps/s of `Learner.fit` on the same model and loaders with no server and no live callbacks"
    torch.manual_seed(0)
    model = digit_model(MODELS[settings['model']], hidden=100)
    dls = tr.loaders()
    n = len(dls.train)
    learn = Learner(dls, model, opt_func=SGD, lr=settings['lr'], cbs=TrainOnly())
    learn.remove_cbs([ProgressCallback, Recorder])
    learn.fit(1)   # warm up
    steps, t0 = 0, time.time()
    while time.time() - t0 < secs:
        learn.fit(1)
        steps += n
    return steps/(time.time() - t0)

def grid_seconds(model_name, repeats):
    "Median seconds of a 21x21 loss grid on 1,000 training digits"
    tr = LiveTrainer(model=model_name).start()
    learn = tr.learn
    items = fixed_items(learn.dls.train, 1000, 'cpu')
    centre = flat_params(list(learn.model.parameters()))
    d1, d2 = random_plane(learn.model, centre, 0)
    xs = ys = torch.linspace(-1, 1, 21)
    res = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        grid_loss(learn.model, learn.loss_func, *items, centre, d1, d2, xs, ys)
        res.append(time.perf_counter() - t0)
    tr.close()
    return statistics.median(res)

def longest_pause(secs):
    "The longest wait between two training steps of the ReLU net while the landscape is redrawn every 0.3 s"
    tr = LiveTrainer(model='relu', lr=0.1, pace=0).start()   # full speed
    stamps = []
    orig = tr._stepped
    def stepped():
        stamps.append(time.perf_counter())
        orig()
    tr._stepped = stepped
    tr.control('play')
    t0 = time.time()
    while time.time() - t0 < secs:
        tr.control('redraw')
        time.sleep(0.3)
    tr.close()
    return max(b - a for a, b in zip(stamps, stamps[1:])), len(stamps)

def interactive_seconds():
    "Seconds from `lesson4 serve` printing its address to the page showing its step counter in headless Chromium"
    from shutil import which
    try: from playwright.sync_api import sync_playwright
    except ImportError: return None
    if not which('chromium'): return None
    p = subprocess.Popen([sys.executable, '-c', 'from fastai_lesson4.cli import cli; cli()', 'serve', '--port', '0',
                          '--no-browser'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=which('chromium'), args=['--no-sandbox', '--disable-gpu',
                                   '--disable-background-networking', '--disable-component-update', '--disable-sync'])
            pg = b.new_page()
            url = re.search(r'http://\S+/', p.stdout.readline())[0]
            t0 = time.time()
            pg.goto(url)
            pg.wait_for_function("document.getElementById('counters').textContent.includes('step')")
            res = time.time() - t0
            b.close()
    finally:
        p.terminate()
        p.wait(10)
    return res

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--secs', type=float, default=4.)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, one torch thread; {time.strftime('%Y-%m-%d %H:%M')}")
    tr = LiveTrainer()
    app = serve_app(tr)
    url, server = start(app)
    for name, settings in [('linear, bs 64', dict(model='linear', lr=0.1, bs=64, pace=0)),   # pace 0: full speed
                           ('ReLU net 784-100-10, bs 64', dict(model='relu', hidden=100, lr=0.1, bs=64, pace=0))]:
        served, plain, fps, big = [], [], [], []
        for _ in range(a.repeats):   # interleaved: server, plain, server, plain...
            r, f, b = served_rate(tr, url, settings, a.secs)
            served.append(r); fps.append(f); big.append(b)
            plain.append(plain_rate(tr, settings, a.secs))
        ms, mp = statistics.median(served), statistics.median(plain)
        print(f"{name}: {ms:,.0f} steps/s with the page streaming, {mp:,.0f} with no server: ratio {ms/mp:.2f} "
              f"(runs {', '.join(f'{s:,.0f}/{p:,.0f}' for s, p in zip(served, plain))}); "
              f"{statistics.median(fps):.1f} frames/s to the page, largest event {max(big):,} bytes")
    server.should_exit = True
    tr.close()
    for m in ('linear', 'relu'):
        print(f"21x21 landscape on 1,000 digits, {m}: {grid_seconds(m, max(a.repeats, 5)):.3f} s (median)")
    gap, n = longest_pause(a.secs)
    print(f"longest pause between two training steps while redrawing the plane every 0.3 s: {gap:.3f} s ({n:,} steps)")
    s = interactive_seconds()
    print("page interactive after `lesson4 serve` printed its address: " +
          (f"{s:.2f} s" if s is not None else "skipped (no chromium or playwright)"))
