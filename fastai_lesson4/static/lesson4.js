// The live page of `lesson4 serve`: it draws what the server streams and sends what the student does.
// Nothing here trains or preprocesses: the numbers come from the library (fastai_lesson4.trainer, .live, .data).
// One stream per browser: the tab holding the 'lesson4-live' Web Lock opens the htmx SSE connection and passes every
// event on to the other tabs over a BroadcastChannel (browsers allow six connections per host over HTTP/1.1).
(() => {
'use strict';
const $ = id => document.getElementById(id);
const CHANNEL = 'lesson4-live';
const EVENTS = ['status', 'loss', 'weights', 'landscape', 'aug'];
const S = {status: null, last: {}, inked: false, source: null, file: null, busy: false, lastPredict: 0, leader: false,
           predStep: null, note: null};   // predStep: the step the bars were read at; note: a passing message

// ---------- small helpers ----------
function bytes(b64) {
  const s = atob(b64), a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}
const int8s = b64 => new Int8Array(bytes(b64).buffer);
const fmt = (v, d = 3) => v == null || !isFinite(v) ? '–' : Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3)
  ? v.toExponential(1) : Math.abs(v) >= 1000 ? Math.round(v).toString() : (+v.toPrecision(d)).toString();
const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
function lerp3(stops, t) {   // piecewise-linear colour map over equally spaced stops
  t = (isFinite(t) ? clamp(t, 0, 1) : 0) * (stops.length - 1);   // not a number: the first colour
  const i = Math.min(Math.floor(t), stops.length - 2), f = t - i, a = stops[i], b = stops[i + 1];
  return [0, 1, 2].map(k => Math.round(a[k] + (b[k] - a[k]) * f));
}
// matplotlib's RdBu_r (blue below zero, white at zero, red above), as `viz.show_weights` draws weights
const RDBU = [[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
              [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];
// matplotlib's viridis, for the loss landscape
const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137],
                 [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37]];
function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
  const step = (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p, res = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) res.push(+v.toPrecision(10));
  return res;
}
function distinctTicks(vs, shown = v => v) {   // [v, label]: the fewest significant digits (3 at least) that differ
  for (let d = 3; d < 8; d++) {
    const ls = vs.map(v => fmt(shown(v), d));
    if (new Set(ls).size === ls.length) return vs.map((v, i) => [v, ls[i]]);
  }
  return vs.map(v => [v, fmt(shown(v), 8)]);
}
function logTicks(lo, hi) {   // 1, 2, 5 times the powers of ten in [lo, hi]; just the powers when they are many
  const res = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) {
      const v = +(m * Math.pow(10, k)).toPrecision(6);
      if (v >= lo && v <= hi) res.push(v);
    }
  }
  return res.length > 8 ? res.filter(v => Math.abs(Math.log10(v) % 1) < 1e-9) : res;
}
function ctx2d(cv) {
  const c = cv.getContext('2d');
  c.setTransform(1, 0, 0, 1, 0, 0);
  c.clearRect(0, 0, cv.width, cv.height);
  c.fillStyle = '#fff';
  c.fillRect(0, 0, cv.width, cv.height);
  c.font = '11px system-ui, sans-serif';
  return c;
}
function tile(c, vals, off, h, w, colour, x, y, scale) {   // one h×w picture, each pixel `scale` px
  const img = c.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const [r, g, b] = colour(vals[off + i]);
    img.data.set([r, g, b, 255], 4 * i);
  }
  const tmp = document.createElement('canvas');
  tmp.width = w;
  tmp.height = h;
  tmp.getContext('2d').putImageData(img, 0, 0);
  c.imageSmoothingEnabled = false;
  c.drawImage(tmp, x, y, w * scale, h * scale);
}
function colourbar(c, x, y, w, h, cmap, lo, hi, label, ticks) {   // vertical, `lo` at the bottom
  for (let i = 0; i < h; i++) {
    const [r, g, b] = lerp3(cmap, 1 - i / (h - 1));
    c.fillStyle = `rgb(${r},${g},${b})`;
    c.fillRect(x, y + i, w, 1);
  }
  c.strokeStyle = '#444';
  c.strokeRect(x, y, w, h);
  c.fillStyle = '#222';
  c.textAlign = 'left';
  c.textBaseline = 'middle';
  for (const [v, t] of ticks) c.fillText(t, x + w + 4, y + h * (1 - (v - lo) / (hi - lo || 1)));
  c.save();
  c.translate(x + w + 50, y + h / 2);
  c.rotate(-Math.PI / 2);
  c.textAlign = 'center';
  c.fillText(label, 0, 0);
  c.restore();
}

// ---------- line charts: the loss curves and the memorization gap ----------
// logIfBlown: a curve far above the rest (a blow-up) switches the y axis to a log scale that shows all of it
function lineChart(cv, series, {xlabel, ylabel, empty = 'no data yet: press play or step', logIfBlown = false}) {
  const c = ctx2d(cv), W = cv.width, H = cv.height, m = {l: 52, r: 12, t: 10, b: 38};
  const pts = series.flatMap(s => s.x.map((x, i) => [x, s.y[i]]).filter(p => p[1] != null && isFinite(p[1])));
  let x0 = 0, x1 = 1, y0 = 0, y1 = 1, log = false;
  if (pts.length) {
    x0 = Math.min(...pts.map(p => p[0]));
    x1 = Math.max(...pts.map(p => p[0]));
    if (x1 <= x0) x1 = x0 + 1;
    y0 = Math.min(0, ...pts.map(p => p[1]));
    y1 = 1e-3;
    for (const s of series) {   // each curve's start and its 99th percentile: a lone spike does not flatten the rest
      const ys = s.y.filter(v => v != null && isFinite(v));
      if (!ys.length) continue;
      const sorted = [...ys].sort((a, b) => a - b);
      y1 = Math.max(y1, ys[0], sorted[Math.floor(0.99 * (sorted.length - 1))]);
    }
    const ymax = Math.max(...pts.map(p => p[1])), ymin = Math.min(...pts.map(p => p[1]));
    log = logIfBlown && ymin > 0 && ymax > 2 * y1;   // the robust range would clip the blow-up off the chart
    if (log) [y0, y1] = [ymin / 1.1, ymax * 1.1];
    else y1 *= 1.05;
  }
  const X = x => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r);
  const tr = y => log ? Math.log10(y) : y, Y = y => H - m.b - (tr(y) - tr(y0)) / (tr(y1) - tr(y0)) * (H - m.t - m.b);
  const yticks = log ? logTicks(y0, y1) : niceTicks(y0, y1, 4);
  if (log) ylabel = ylabel.endsWith(')') ? ylabel.slice(0, -1) + ', log scale)' : ylabel + ' (log scale)';
  cv.dataset.y = JSON.stringify({lo: y0, hi: y1, log});   // what the axis shows, for the page's tests
  c.strokeStyle = '#ddd';
  c.fillStyle = '#333';
  c.textAlign = 'right';
  c.textBaseline = 'middle';
  for (const [t, label] of distinctTicks(yticks)) {
    c.beginPath(); c.moveTo(m.l, Y(t)); c.lineTo(W - m.r, Y(t)); c.stroke();
    c.fillText(label, m.l - 4, Y(t));
  }
  c.textAlign = 'center';
  c.textBaseline = 'top';
  for (const t of niceTicks(x0, x1, 5)) c.fillText(fmt(t, 4), X(t), H - m.b + 4);
  c.strokeStyle = '#333';
  c.strokeRect(m.l, m.t, W - m.l - m.r, H - m.t - m.b);
  c.fillText(xlabel, (m.l + W - m.r) / 2, H - 14);
  c.save();
  c.translate(12, (m.t + H - m.b) / 2);
  c.rotate(-Math.PI / 2);
  c.fillText(ylabel, 0, -6);
  c.restore();
  c.save();
  c.beginPath();
  c.rect(m.l, m.t, W - m.l - m.r, H - m.t - m.b);
  c.clip();
  for (const s of series) {
    c.strokeStyle = s.colour;
    c.lineWidth = s.width || 1.5;
    c.setLineDash(s.dash || []);
    c.beginPath();
    let on = false;
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (y == null || !isFinite(y)) { on = false; return; }
      const yc = log ? clamp(y, y0, y1) : clamp(y, y0 - (y1 - y0), y1 * 2);
      on ? c.lineTo(X(x), Y(yc)) : c.moveTo(X(x), Y(yc));
      on = true;
    });
    c.stroke();
  }
  c.restore();
  c.setLineDash([]);
  c.textAlign = 'left';
  c.textBaseline = 'middle';
  const lx = W - m.r - 154, lw = Math.max(...series.map(s => c.measureText(s.name).width)) + 30;
  c.fillStyle = 'rgba(255,255,255,0.92)';   // the legend on an opaque box: a curve behind it does not cross its text
  c.fillRect(lx, m.t + 2, lw, 15 * series.length + 2);
  c.strokeStyle = '#ccc';
  c.lineWidth = 1;
  c.strokeRect(lx, m.t + 2, lw, 15 * series.length + 2);
  series.forEach((s, i) => {   // the legend
    const y = m.t + 10 + 15 * i, x = lx + 4;
    c.strokeStyle = s.colour;
    c.lineWidth = 2;
    c.setLineDash(s.dash || []);
    c.beginPath(); c.moveTo(x, y); c.lineTo(x + 18, y); c.stroke();
    c.setLineDash([]);
    c.fillStyle = '#222';
    c.fillText(s.name, x + 22, y);
  });
  if (!pts.length) {
    c.fillStyle = '#888';
    c.textAlign = 'center';
    c.fillText(empty, W / 2, H / 2);
  }
}

function drawLoss(f) {
  lineChart($('loss'), [
    {name: 'train loss (each batch)', x: f.steps, y: f.train, colour: 'rgba(31,119,180,0.55)', width: 1},
    {name: 'valid loss', x: f.eval_steps, y: f.valid_loss, colour: '#d62728', width: 2}],
    {xlabel: 'step (mini-batches trained)', ylabel: 'loss (cross-entropy)', logIfBlown: true});
  const gap = f.eval_steps.map((_, i) => f.valid_loss[i] == null || f.train_eval_loss[i] == null ? null
    : f.valid_loss[i] - f.train_eval_loss[i]);
  lineChart($('memorize'), [
    {name: 'train loss (its labels)', x: f.eval_steps, y: f.train_eval_loss, colour: '#1f77b4', width: 2},
    {name: 'valid loss', x: f.eval_steps, y: f.valid_loss, colour: '#d62728', width: 2},
    {name: 'gap: valid − train', x: f.eval_steps, y: gap, colour: '#2ca02c', width: 1.5, dash: [5, 3]}],
    {xlabel: 'step (mini-batches trained)', ylabel: 'loss on 1,000 digits'});
}

// ---------- the first layer: templates, hidden units or filters ----------
function drawWeights(f) {
  const cv = $('templates'), vals = int8s(f.data), n = f.n, h = f.h, w = f.w, cb = 70, titleH = 14, maxH = 420;
  const fit = k => Math.floor(Math.min((cv.width - cb - 8) / k / (w + 2),
                                       (maxH - titleH) / Math.ceil(n / k) / (h + 2 + titleH / 2)));   // px per weight
  let cols = 1;
  for (let k = 2; k <= n; k++) if (fit(k) >= fit(cols)) cols = k;   // the biggest pictures; then the fewest rows
  const rows = Math.ceil(n / cols), sc = Math.max(1, fit(cols)), height = titleH + rows * ((h + 2) * sc + titleH);
  if (cv.height !== height) cv.height = height;
  const c = ctx2d(cv);
  const colour = v => lerp3(RDBU, (v / 127 + 1) / 2);
  c.textAlign = 'center';
  c.textBaseline = 'bottom';
  c.fillStyle = '#222';
  for (let i = 0; i < n; i++) {
    const x = 4 + (i % cols) * (w + 2) * sc, y = titleH + Math.floor(i / cols) * ((h + 2) * sc + titleH);
    tile(c, vals, i * h * w, h, w, colour, x, y, sc);
    c.fillText(f.labels[i], x + w * sc / 2, y - 1);
  }
  const s = f.scale, top = titleH, hb = Math.min(cv.height - 2 * titleH, rows * ((h + 2) * sc + titleH) - titleH);
  colourbar(c, cv.width - cb + 4, top, 12, hb, RDBU, -s, s, 'weight', [[-s, fmt(-s, 2)], [0, '0'], [s, fmt(s, 2)]]);
  $('weights-caption').textContent = {templates: 'The linear model\'s ten templates, one per digit: red pixels are '
    + 'ink that votes for the digit, blue ink that votes against it.', units: `The first ${n} hidden units of the `
    + 'ReLU net: what each looks for in a digit.', filters: `The first layer's ${n} filters (${h}×${w}) of the CNN.`
  }[f.kind] + ` Step ${f.step}.`;
}

// ---------- the landscape: a filled contour map, the marble and its trail ----------
function drawLandscape(f) {
  const finite = (f.loss || []).flat().some(v => v != null && isFinite(v) && v > 0);
  if (!f.loss || !f.loss.length || !f.loss[0].length || !finite) {   // no plane yet, or no finite loss on it
    const c = ctx2d($('landscape'));
    c.fillStyle = '#888';
    c.textAlign = 'center';
    c.fillText(f.loss && f.loss.length ? 'no finite loss on this plane: the run diverged (reset)'
               : 'drawing the landscape…', $('landscape').width / 2, $('landscape').height / 2);
    return;
  }
  const cv = $('landscape'), c = ctx2d(cv), m = {l: 48, r: 96, t: 10, b: 40};
  const W = cv.width - m.l - m.r, H = cv.height - m.t - m.b, L = f.loss, ny = L.length, nx = L[0].length;
  const fin = L.flat().filter(v => v != null && isFinite(v) && v > 0);
  const ml = f.marble ? f.marble[2] : null;
  if (ml != null && isFinite(ml) && ml > 0) fin.push(ml);   // the marble's own loss on the scale, never below it
  const lo = Math.log(Math.min(...fin)), hi = Math.log(Math.max(...fin));
  const levels = 14, t = v => v == null || !isFinite(v) ? 1 : Math.floor((Math.log(v) - lo) / (hi - lo || 1) * levels) / levels;
  const img = c.createImageData(W, H);
  for (let py = 0; py < H; py++) for (let px = 0; px < W; px++) {   // bilinear in the grid, banded: filled contours
    const gx = px / (W - 1) * (nx - 1), gy = (1 - py / (H - 1)) * (ny - 1);
    const i = Math.min(Math.floor(gx), nx - 2), j = Math.min(Math.floor(gy), ny - 2), a = gx - i, b = gy - j;
    const v = (1 - a) * (1 - b) * L[j][i] + a * (1 - b) * L[j][i + 1] + (1 - a) * b * L[j + 1][i] + a * b * L[j + 1][i + 1];
    img.data.set([...lerp3(VIRIDIS, t(v)), 255], 4 * (py * W + px));
  }
  c.putImageData(img, m.l, m.t);
  const [x0, x1, y0, y1] = [f.xs[0], f.xs[f.xs.length - 1], f.ys[0], f.ys[f.ys.length - 1]];
  const X = x => m.l + (x - x0) / (x1 - x0) * W, Y = y => m.t + H - (y - y0) / (y1 - y0) * H;
  c.strokeStyle = '#333';
  c.strokeRect(m.l, m.t, W, H);
  c.fillStyle = '#333';
  c.textAlign = 'center';
  c.textBaseline = 'top';
  for (const v of niceTicks(x0, x1, 4)) c.fillText(fmt(v, 2), X(v), m.t + H + 3);
  c.fillText(`direction 1 (${f.method === 'pca' ? 'the path\'s 1st principal direction' : 'random, filter-normalized'})`,
             m.l + W / 2, m.t + H + 20);
  c.textAlign = 'right';
  c.textBaseline = 'middle';
  for (const v of niceTicks(y0, y1, 4)) c.fillText(fmt(v, 2), m.l - 4, Y(v));
  c.save();
  c.translate(12, m.t + H / 2);
  c.rotate(-Math.PI / 2);
  c.textAlign = 'center';
  c.fillText('direction 2', 0, 0);
  c.restore();
  c.save();
  c.beginPath();
  c.rect(m.l, m.t, W, H);
  c.clip();
  if (f.trail.length > 1) {
    c.strokeStyle = 'rgba(255,255,255,0.9)';
    c.lineWidth = 2;
    c.beginPath();
    f.trail.forEach(([x, y], i) => i ? c.lineTo(X(x), Y(y)) : c.moveTo(X(x), Y(y)));
    c.stroke();
  }
  if (f.marble) {
    c.fillStyle = '#e8412c';
    c.strokeStyle = '#fff';
    c.lineWidth = 2;
    c.beginPath();
    c.arc(X(f.marble[0]), Y(f.marble[1]), 7, 0, 2 * Math.PI);
    c.fill();
    c.stroke();
  }
  c.restore();
  const ticks = distinctTicks([0, 1, 2, 3, 4].map(i => lo + (hi - lo) * i / 4), Math.exp);
  colourbar(c, m.l + W + 10, m.t, 12, H, VIRIDIS, lo, hi, 'loss (log scale)', ticks);
  cv.dataset.scale = JSON.stringify({lo: Math.exp(lo), hi: Math.exp(hi), ticks: ticks.map(t => t[1])});   // for tests
  const on = f.data === 'valid' ? 'validation digits' : "training digits (the counter's valid loss is on the validation "
    + 'digits)';
  $('marble-loss').textContent = f.marble ? `The marble's loss on ${(f.n_points ?? 1000).toLocaleString('en')} ${on}: `
    + `${fmt(f.marble[2], 4)} at step ${f.step}.` : '';
}

// ---------- the augmentation strip ----------
function drawAug(f) {
  const cv = $('augstrip'), c = ctx2d(cv), a = bytes(f.data), sc = 2;
  for (let i = 0; i < f.n; i++) tile(c, a, i * 784, 28, 28, v => [255 - v, 255 - v, 255 - v], 4 + i * (28 * sc + 6), 4, sc);
}

// ---------- the softmax bars ----------
function drawProbs(cv, probs, labels, title) {
  const c = ctx2d(cv), m = {l: 44, r: 6, t: 20, b: 30}, W = cv.width - m.l - m.r, H = cv.height - m.t - m.b;
  const n = labels.length, bw = W / n, ok = probs && probs.every(p => p != null);
  const best = ok ? probs.indexOf(Math.max(...probs)) : -1;
  c.fillStyle = '#222';
  c.textAlign = 'left';
  c.textBaseline = 'top';
  c.fillText(title, m.l, 3);
  c.textAlign = 'right';
  c.textBaseline = 'middle';
  for (const v of [0, 0.5, 1]) c.fillText(v.toString(), m.l - 4, m.t + H * (1 - v));
  c.strokeStyle = '#333';
  c.strokeRect(m.l, m.t, W, H);
  c.textAlign = 'center';
  c.textBaseline = 'top';
  for (let i = 0; i < n; i++) {
    const p = ok ? probs[i] : 0;
    c.fillStyle = i === best ? '#ff7f0e' : '#1f77b4';
    c.fillRect(m.l + i * bw + 3, m.t + H * (1 - p), bw - 6, H * p);
    c.fillStyle = '#222';
    c.fillText(labels[i] + (i === best ? '▲' : ''), m.l + (i + 0.5) * bw, m.t + H + 3);
  }
  c.fillText('digit (▲ the likeliest)', m.l + W / 2, m.t + H + 16);
  c.save();
  c.translate(4, m.t + H / 2);
  c.rotate(-Math.PI / 2);
  c.fillText('probability', 0, 0);
  c.restore();
  if (!ok) {
    c.fillStyle = '#888';
    c.fillText(probs ? 'no finite output: the run diverged' : 'draw a digit', m.l + W / 2, m.t + H / 2);
  }
}

// ---------- status: counters, controls, experiment, the diverged state ----------
// The controls show the trainer's settings, whatever set them (an experiment, another tab, a link), except a field
// the student is changing: typed into or dragged, not yet sent (its `change` not fired). A field that merely has the
// focus is updated: a select keeps it after a choice, and would otherwise show, and then send, a stale value.
const editing = new Set();
$('controls').addEventListener('input', e => editing.add(e.target.id));
$('controls').addEventListener('change', e => editing.delete(e.target.id));
function setField(name, v, by = name) {   // `by`: the id of the element the student changes it with
  const el = $('controls').elements[name];
  if (!el || editing.has(by)) return;
  el.value = v;
}
function syncControls(s) {
  setField('model', s.model);
  setField('hidden', s.hidden);
  setField('bs', s.bs);
  setField('lr', s.lr, 'lr-range');
  setField('aug', s.aug ? 'true' : 'false', 'aug-box');
  setField('noise', s.noise, 'noise-range');
  setField('pace', s.pace);
  if (!editing.has('lr-range')) {
    $('lr-range').value = Math.log10(s.lr);
    $('lr-out').textContent = fmt(s.lr, 2);
  }
  if (!editing.has('noise-range')) {
    $('noise-range').value = Math.round(s.noise * 100);
    $('noise-out').textContent = `${Math.round(s.noise * 100)}%`;
  }
  if (!editing.has('aug-box')) $('aug-box').checked = s.aug;
  $('hidden-row').hidden = s.model !== 'relu';
  $('augstrip-row').hidden = !s.aug;
}
function onStatus(s) {
  const prev = S.status, newRun = prev != null && prev.run !== s.run;
  S.status = s;
  const st = s.diverged ? 'diverged' : s.running ? 'training' : 'paused';
  // paused, or not measured yet (the first second of a count): no speed to show
  const rate = s.running && s.steps_per_s != null ? ` · ${fmt(s.steps_per_s, 3)} steps/s` : '';
  if (newRun && prev.step > 0 && !s.experiment) {   // a setting that builds a new model
    S.note = {text: 'new model: training restarts at step 0', until: Date.now() + 6000};
  }
  const note = S.note && Date.now() < S.note.until ? ` · ${S.note.text}` : '';
  const acc = s.valid_acc == null ? '–' : (100 * s.valid_acc).toFixed(1) + '%';
  $('counters').textContent = `${st} · step ${s.step} · epoch ${s.epoch.toFixed(2)}${rate} · `
    + `valid loss ${fmt(s.valid_loss)} · valid accuracy ${acc}${note}`;
  document.body.dataset.state = st;
  $('diverged').hidden = !s.diverged;
  $('error').hidden = !s.error;
  $('error').textContent = s.error ? `The run stopped: ${s.error}. Reset to start again.` : '';
  syncControls(s);
  const q = new URLSearchParams({model: s.model, hidden: s.hidden, lr: s.lr, bs: s.bs, aug: s.aug, noise: s.noise,
                                 pace: s.pace});
  if (location.search.slice(1) !== q.toString()) history.replaceState(null, '', '?' + q);
  const e = s.experiment;
  $('experiment').hidden = !e;
  if (e) {
    $('exp-title').textContent = e.title;
    $('exp-question').textContent = e.question;
    $('exp-progress').textContent = e.done ? 'Done.' : s.running ? `Running: run ${e.run + 1} of ${e.n_runs}, step ${s.step}…`
      : 'Ready: think of your answer, then press "Run it" (or Play).';
    $('exp-run').hidden = e.done || s.running;
    $('exp-finding').textContent = e.finding || '';
  }
  if (newRun) $('marble-loss').textContent = '';
  // the bars follow the model: a new run or step read again at once when paused, at most once a second when training
  const stale = S.predStep !== s.step || newRun;
  if (S.inked && stale && (newRun || !s.running || Date.now() - S.lastPredict > 1000)) predict();
}

function handle(type, data) {
  const d = typeof data === 'string' ? JSON.parse(data) : data;
  S.last[type] = d;
  if (type === 'status') onStatus(d);
  else if (type === 'loss') drawLoss(d);
  else if (type === 'weights') drawWeights(d);
  else if (type === 'landscape') drawLandscape(d);
  else if (type === 'aug') drawAug(d);
}

// ---------- the stream: one per browser ----------
const bc = 'BroadcastChannel' in window ? new BroadcastChannel(CHANNEL) : null;
if (bc) bc.onmessage = e => {
  if (e.data.hello) { if (S.leader) for (const [type, data] of Object.entries(S.last)) bc.postMessage({type, data}); }
  else handle(e.data.type, e.data.data);
};
document.body.addEventListener('htmx:sseBeforeMessage', e => {
  e.preventDefault();   // nothing to swap: the page draws the data itself
  handle(e.detail.type, e.detail.data);
  if (bc) bc.postMessage({type: e.detail.type, data: e.detail.data});
});
document.body.addEventListener('htmx:sseError', () => {
  $('counters').textContent = 'The server is not answering: is lesson4 serve still running? Start it again, then reload.';
  document.body.dataset.state = 'offline';
});
document.body.addEventListener('htmx:sseOpen', () => { if (S.status) onStatus(S.status); });
function connect() {
  if ($('sse')) return;
  const el = document.createElement('div'), sink = document.createElement('div');
  el.id = 'sse';
  el.setAttribute('hx-ext', 'sse');
  el.setAttribute('sse-connect', '/events');
  sink.setAttribute('sse-swap', EVENTS.join(','));
  sink.setAttribute('hx-swap', 'none');
  el.appendChild(sink);
  document.body.appendChild(el);
  htmx.process(el);
}
function disconnect() { if ($('sse')) htmx.remove($('sse')); }
if (navigator.locks && bc) {   // the tab holding the lock streams for all; when it closes, another takes over
  navigator.locks.request(CHANNEL, () => new Promise(() => { S.leader = true; connect(); }));
  bc.postMessage({hello: true});
} else {   // no Web Locks (a page served to another machine over plain http): each visible tab streams
  const vis = () => document.hidden ? disconnect() : connect();
  document.addEventListener('visibilitychange', vis);
  vis();
}

// ---------- controls: plain POSTs to /control ----------
async function control(body) {
  const r = await fetch('/control', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const j = await r.json();
  $('control-error').textContent = r.ok ? '' : j.error;
  if (r.ok) onStatus(j);
  return j;
}
document.body.addEventListener('htmx:afterRequest', e => {
  const x = e.detail.xhr;
  if (!x || !e.detail.requestConfig || !e.detail.requestConfig.path.startsWith('/control')) return;
  let j = {};
  try { j = JSON.parse(x.responseText); } catch (err) { j = {error: x.responseText}; }
  $('control-error').textContent = e.detail.successful ? '' : j.error;
  if (e.detail.successful) onStatus(j);
});
$('lr-range').addEventListener('input', e => {
  const v = +Math.pow(10, +e.target.value).toPrecision(2);
  $('controls').elements.lr.value = v;
  $('lr-out').textContent = fmt(v, 2);
});
$('noise-range').addEventListener('input', e => {
  $('controls').elements.noise.value = +e.target.value / 100;
  $('noise-out').textContent = `${e.target.value}%`;
});
$('aug-box').addEventListener('input', e => { $('controls').elements.aug.value = e.target.checked ? 'true' : 'false'; });
$('model').addEventListener('input', e => { $('hidden-row').hidden = e.target.value !== 'relu'; });
$('controls').addEventListener('submit', e => {
  e.preventDefault();
  const el = document.activeElement;
  if (el && el.form === $('controls')) {   // leaving the field fires its change (htmx posts it), as Tab does
    el.blur();
    el.focus();
  }
});
$('hidden').addEventListener('change', e => {
  if (!e.target.checkValidity()) $('control-error').textContent = 'hidden units must be a whole number from 1 to 1,024';
});

// ---------- drawing, uploading, predicting ----------
const draw = $('draw'), dc = draw.getContext('2d');
function clearOutputs() {   // the strip, the bars and the sentence: nothing read yet
  for (const id of ['step-drawn', 'step-ink', 'step-fitted', 'step-centred', 'step-input']) ctx2d($(id));
  drawProbs($('probs-live'), null, [...'0123456789'], 'the model training now');
  if ($('probs-file')) drawProbs($('probs-file'), null, JSON.parse($('probs-file').dataset.labels), $('probs-file').dataset.title);
  $('pred').textContent = '';
}
function clearDrawing() {
  dc.fillStyle = '#fff';
  dc.fillRect(0, 0, draw.width, draw.height);
  S.inked = false;
  S.file = null;
  S.source = draw;
  clearOutputs();
}
let last = null;
const pos = e => {
  const r = draw.getBoundingClientRect();
  return [(e.clientX - r.left) * draw.width / r.width, (e.clientY - r.top) * draw.height / r.height];
};
draw.addEventListener('pointerdown', e => {
  if (S.file) clearDrawing();
  draw.setPointerCapture(e.pointerId);
  last = pos(e);
  dc.fillStyle = '#000';
  dc.beginPath();
  dc.arc(last[0], last[1], 9, 0, 2 * Math.PI);
  dc.fill();
  S.inked = true;
  e.preventDefault();
});
draw.addEventListener('pointermove', e => {
  if (!last) return;
  const p = pos(e);
  dc.strokeStyle = '#000';
  dc.lineWidth = 18;
  dc.lineCap = 'round';
  dc.beginPath();
  dc.moveTo(...last);
  dc.lineTo(...p);
  dc.stroke();
  last = p;
  e.preventDefault();
});
const up = () => { if (last) { last = null; predict(); } };
draw.addEventListener('pointerup', up);
draw.addEventListener('pointercancel', up);
$('clear').addEventListener('click', clearDrawing);
function useFile(file) {
  if (!file) return;
  S.file = file;
  S.inked = true;
  const img = new Image();
  img.onload = () => {
    S.source = img;
    dc.fillStyle = '#fff';
    dc.fillRect(0, 0, draw.width, draw.height);
    const k = Math.min(draw.width / img.width, draw.height / img.height);
    dc.drawImage(img, (draw.width - img.width * k) / 2, (draw.height - img.height * k) / 2, img.width * k, img.height * k);
    predict();
  };
  img.onerror = () => { S.source = null; predict(); };   // not a picture the browser reads: the server says why
  img.src = URL.createObjectURL(file);
}
$('upload').addEventListener('change', e => useFile(e.target.files[0]));
draw.addEventListener('dragover', e => e.preventDefault());
draw.addEventListener('drop', e => { e.preventDefault(); useFile(e.dataTransfer.files[0]); });

async function fitted(file) {   // a photo over 2 MB, scaled to 1600 px as a JPEG: the server takes 2 MB at most
  if (file.size <= 2e6 || !S.source || S.source === draw) return file;
  const k = Math.min(1, 1600 / Math.max(S.source.naturalWidth, S.source.naturalHeight)), c = document.createElement('canvas');
  c.width = Math.round(S.source.naturalWidth * k);
  c.height = Math.round(S.source.naturalHeight * k);
  c.getContext('2d').drawImage(S.source, 0, 0, c.width, c.height);
  return new Promise(r => c.toBlob(r, 'image/jpeg', 0.92));
}
function drawStep(id, a, h, w, box) {   // a uint8 picture, white ink on black, fitted into its canvas
  const cv = $(id), c = ctx2d(cv), k = Math.min(cv.width / w, cv.height / h);
  c.fillStyle = '#000';
  c.fillRect(0, 0, cv.width, cv.height);
  tile(c, a, 0, h, w, v => [v, v, v], (cv.width - w * k) / 2, (cv.height - h * k) / 2, k);
}
async function predict() {
  if (!S.inked || S.busy) return;
  S.busy = true;
  S.lastPredict = Date.now();
  try {
    const blob = S.file ? await fitted(S.file) : await new Promise(r => draw.toBlob(r, 'image/png'));
    const fd = new FormData();
    fd.append('image', blob, S.file ? S.file.name : 'drawing.png');
    const r = await fetch('/predict', {method: 'POST', body: fd}), j = await r.json();
    $('draw-error').textContent = r.ok ? '' : j.error;
    if (!r.ok) { clearOutputs(); return; }
    const src = S.source, cv = $('step-drawn'), c = ctx2d(cv);
    const sw = src ? (src.naturalWidth || src.width) : j.size[1], sh = src ? (src.naturalHeight || src.height) : j.size[0];
    const k = Math.min(cv.width / sw, cv.height / sh), ox = (cv.width - sw * k) / 2, oy = (cv.height - sh * k) / 2;
    if (src) c.drawImage(src, ox, oy, sw * k, sh * k);
    const [t, l, b, rr] = j.box;
    c.strokeStyle = '#d62728';
    c.lineWidth = 2;
    c.strokeRect(ox + l * k, oy + t * k, (rr - l) * k, (b - t) * k);
    drawStep('step-ink', bytes(j.ink.data), j.ink.h, j.ink.w);
    drawStep('step-fitted', bytes(j.fitted.data), j.fitted.h, j.fitted.w);
    drawStep('step-centred', new Uint8Array(j.input.flat()), 28, 28);
    const ic = $('step-input'), icx = ctx2d(ic), flat = j.input.flat(), sc = Math.floor((ic.height - 4) / 28);
    tile(icx, flat, 0, 28, 28, v => lerp3(VIRIDIS, v / 255), 2, 2, sc);   // the floats x/255 the model takes
    colourbar(icx, 28 * sc + 8, 2, 8, 28 * sc, VIRIDIS, 0, 1, '', [[0, '0'], [1, '1']]);   // the caption names it
    S.predStep = j.step;
    $('probs-live').dataset.step = j.step;   // the step the bars show, for the page's tests
    drawProbs($('probs-live'), j.probs, [...'0123456789'], `the model training now (step ${j.step})`);
    if (j.file_model) drawProbs($('probs-file'), j.file_model.probs, j.file_model.labels, $('probs-file').dataset.title);
    const a = d => (d === 8 || d === '8' ? 'an ' : 'a ') + d;
    const theirs = j.file_model ? j.file_model.labels[j.file_model.probs.indexOf(Math.max(...j.file_model.probs))] : null;
    $('pred').textContent = (j.pred == null ? 'The model training now reads nothing: it diverged.'
      : `The model training now reads ${a(j.pred)}.`) + (theirs == null ? '' : ` The --model reads ${a(theirs)}.`);
  } finally { S.busy = false; }
  const s = S.status;   // a step taken while this one was read: read again (training: the next status does it)
  if (s && !s.running && S.inked && S.predStep !== s.step) setTimeout(predict, 0);
}

// ---------- start: a link's settings (a reload continues the run as it is), then the first pictures ----------
clearDrawing();
const q = new URLSearchParams(location.search), wanted = {}, nav = performance.getEntriesByType('navigation')[0];
for (const k of ['model', 'hidden', 'lr', 'bs', 'aug', 'noise', 'pace']) if (q.has(k)) wanted[k] = q.get(k);
if (Object.keys(wanted).length && !(nav && nav.type === 'reload')) control(wanted);
document.body.dataset.ready = 'true';
})();
