"""PyTorch peer of bench/gemm.ts: GFLOP/s of torch.mm / torch.bmm (MKL or oneDNN, whatever this torch build uses) on
the same shapes and thread counts, best of repeated ~20 ms timing windows within a time budget per cell. Transposed
operands are views (.t() / .transpose), as a BERT's backward passes them, so BLAS gets its transpose flags.
Prints one JSON object: {"torch_version": ..., "cells": [{"shape", "threads", "gflops", "ms_per_call"}, ...]}.

Usage: python torch_gemm.py [--budget 0.25] [--threads 1,2]
"""
import argparse
import json
import time

import torch

SHAPES = [  # name, M, N, K, transA, transB, batch — bench/gemm.ts's SHAPES
    ('1024^3', 1024, 1024, 1024, False, False, 1),
    ('QKV/out proj [1024x256]x[256x256]', 1024, 256, 256, False, False, 1),
    ('FFN up [1024x256]x[256x1024]', 1024, 1024, 256, False, False, 1),
    ('FFN down [1024x1024]x[1024x256]', 1024, 256, 1024, False, False, 1),
    ('weight grad [256x1024]^T x [1024x1024]', 256, 1024, 1024, True, False, 1),
    ('attn scores 32x[128x64]x[64x128]^T', 128, 128, 64, False, True, 32),
    ('attn context 32x[128x128]x[128x64]', 128, 64, 128, False, False, 32),
]


def operands(M, N, K, ta, tb, batch):
    g = torch.Generator().manual_seed(1)
    a = torch.rand((batch, K, M) if ta else (batch, M, K), generator=g) - 0.5
    b = torch.rand((batch, N, K) if tb else (batch, K, N), generator=g) - 0.5
    a = a.transpose(1, 2) if ta else a
    b = b.transpose(1, 2) if tb else b
    return (a[0], b[0]) if batch == 1 else (a, b)


def best_time(fn, budget):
    fn()
    best = float('inf')
    end = time.perf_counter() + budget
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        reps = 0
        while True:
            fn()
            reps += 1
            if time.perf_counter() - t0 >= 0.02:
                break
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--budget', type=float, default=0.25)
    ap.add_argument('--threads', default='1,2')
    a = ap.parse_args()
    torch.set_num_interop_threads(1)
    cells = []
    for threads in [int(t) for t in a.threads.split(',')]:
        torch.set_num_threads(threads)
        for name, M, N, K, ta, tb, batch in SHAPES:
            x, y = operands(M, N, K, ta, tb, batch)
            out = torch.empty((M, N) if batch == 1 else (batch, M, N))
            fn = (lambda: torch.mm(x, y, out=out)) if batch == 1 else (lambda: torch.bmm(x, y, out=out))
            t = best_time(fn, a.budget)
            cells.append({'shape': name, 'threads': threads, 'gflops': 2 * M * N * K * batch / t / 1e9, 'ms_per_call': t * 1000})
    print(json.dumps({'torch_version': torch.__version__, 'cells': cells}))


if __name__ == '__main__':
    main()
