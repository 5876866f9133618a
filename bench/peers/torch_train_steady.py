"""PyTorch peer of bench/train-steady.ts: many consecutive MLM training steps of a wider BERT (default hidden 256,
4 layers, 4 heads, FFN 1024, vocab 8000 — configs/mlm-wide.json's encoder) on fresh synthetic batches of 64 x 160
segment-pair-like rows (lengths uniform in [80, 160], padded; 15 % of real tokens masked), AdamW (lr 1e-4, weight decay
0.01) with global grad-norm clipping at 1.0 and dropout 0.1, as realm-lm's trainer runs them. Prints one JSON object
with every step's wall time, so the caller can compare early and steady-state steps.

Usage: python torch_train_steady.py [--steps 80] [--threads 2] [--batch 64] [--seq 160] [--layers 4] [--hidden 256]
"""
import argparse
import json
import time

import torch

from torch_train_step import BertMini, CFG


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=80)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--seq', type=int, default=160)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--hidden', type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    cfg = dict(CFG, num_hidden_layers=a.layers, hidden_size=a.hidden, num_attention_heads=a.hidden // 64,
               intermediate_size=4 * a.hidden, max_position_embeddings=256)
    model = BertMini(cfg)
    model.train()
    decay = [p for n, p in model.named_parameters() if not (n.endswith('bias') or '_ln.' in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith('bias') or '_ln.' in n]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=1e-4, betas=(0.9, 0.999), eps=1e-6)
    g = torch.Generator().manual_seed(1)
    B, T, V = a.batch, a.seq, cfg['vocab_size']
    times, losses = [], []
    for _ in range(a.steps):
        lens = torch.randint(80, T + 1, (B,), generator=g)
        mask = (torch.arange(T)[None, :] < lens[:, None]).long()
        ids = torch.randint(5, V, (B, T), generator=g) * mask
        types = (torch.arange(T)[None, :] >= 40).long() * mask
        chosen = (torch.rand(B, T, generator=g) < 0.15) & mask.bool()
        positions = chosen.view(-1).nonzero().squeeze(1)
        labels = torch.randint(5, V, (positions.numel(),), generator=g)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model.mlm_loss(ids, types, mask, positions, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        times.append(time.perf_counter() - t0)
    print(json.dumps({'peer': 'torch', 'torch_version': torch.__version__, 'threads': a.threads, 'seconds': times,
                      'first_loss': losses[0], 'last_loss': losses[-1]}))


if __name__ == '__main__':
    main()
