"""Markdown tables from a `bench/run.py` results file, for `bench/RESULTS.md`.

    python bench/report.py bench/results-cpu.json
"""
import json, sys

def fmt(v, unit):
    if v is None: return ''
    if unit in ('img/s',): return f'{v:,.0f}'
    if unit == 'us/batch': return f'{v:,.0f}'
    return f'{v:,.1f}'

def main(path):
    d = json.load(open(path))
    m = d['meta']
    print(f"**{m['device']}**, {m['date']}: torch {m['torch']}, fastai {m['fastai']}, kornia {m['kornia']}, torchvision "
          f"{m['torchvision']}, Python {m['python']}; {m['threads']} torch thread(s) for the comparisons; {m['repeats']} "
          f"interleaved rounds, medians; {m['images_per_epoch']:,} images per epoch{' (--quick)' if m['quick'] else ''}.\n")
    sec = None
    for r in d['rows']:
        if r['section'] != sec:
            sec = r['section']
            print(f"\n| {sec} | value | ratio | target |\n|---|---:|---:|---|")
        ratio = '' if r.get('ratio') is None else f"{r['ratio']:.2f}× vs {r['anchor']}"
        tgt = '' if r.get('target') is None else f"{r['target']}: **{'pass' if r['passed'] else 'FAIL'}**"
        val = r.get('error') or f"{fmt(r['value'], r['unit'])} {r['unit']}"
        print(f"| {r['name']} | {val} | {ratio} | {tgt} |")
    fails = [r for r in d['rows'] if r.get('passed') is False]
    print(f"\nTargets: {sum(r.get('passed') is True for r in d['rows'])} passed, {len(fails)} failed.")

if __name__ == '__main__': main(sys.argv[1] if len(sys.argv) > 1 else 'bench/results-cpu.json')
