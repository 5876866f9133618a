"""PyTorch/HF peer of bench/copy-probe.ts: the same synthetic copy task on transformers' BertForMaskedLM.

Random-id sequences; each row is [CLS] a [SEP] b [SEP] with token types 0/1, a a window of 12 ids of b (b = the whole
sequence), 15% of a's ids as MLM targets (80/10/10), none in b: the target can only be found by copying from b.
Prints one JSON object: {"curve": [{"step", "loss"}...], "torch": version}.
"""
import argparse, json, math, random, time
import torch
from transformers import BertConfig, BertForMaskedLM

p = argparse.ArgumentParser()
p.add_argument('--vocab', type=int, default=200); p.add_argument('--len', type=int, default=40)
p.add_argument('--hidden', type=int, default=64); p.add_argument('--layers', type=int, default=2)
p.add_argument('--lr', type=float, default=1e-3); p.add_argument('--steps', type=int, default=1500)
p.add_argument('--every', type=int, default=100); p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(1); random.seed(2)
V, L, Q = a.vocab, a.len, 12
cfg = BertConfig(vocab_size=V, hidden_size=a.hidden, num_hidden_layers=a.layers, num_attention_heads=2, intermediate_size=4 * a.hidden,
                 max_position_embeddings=128, hidden_dropout_prob=0, attention_probs_dropout_prob=0)
m = BertForMaskedLM(cfg)
opt = torch.optim.AdamW(m.parameters(), lr=a.lr, weight_decay=0.01, eps=1e-6)
seqs = [[5 + random.randrange(V - 5) for _ in range(L)] for _ in range(2000)]
curve, acc, t0 = [], 0.0, time.time()
for step in range(1, a.steps + 1):
    ids, labs, tt = [], [], []
    for _ in range(32):
        s = random.choice(seqs); st = random.randrange(L - Q + 1); q = s[st:st + Q]
        x = [2] + q + [3] + s + [3]; lab = [-100] * len(x); t = [0] * (Q + 2) + [1] * (L + 1)
        pos = [i for i in range(1, Q + 1) if random.random() < 0.15] or [random.randrange(1, Q + 1)]
        for i in pos:
            lab[i] = x[i]; r = random.random()
            if r < 0.8: x[i] = 4
            elif r < 0.9: x[i] = 5 + random.randrange(V - 5)
        ids.append(x); labs.append(lab); tt.append(t)
    out = m(input_ids=torch.tensor(ids), token_type_ids=torch.tensor(tt), labels=torch.tensor(labs))
    out.loss.backward(); opt.step(); opt.zero_grad(); acc += out.loss.item()
    if step % a.every == 0:
        curve.append({'step': step, 'loss': acc / a.every}); acc = 0.0
print(json.dumps({'curve': curve, 'torch': torch.__version__, 'seconds': time.time() - t0, 'chance': math.log(V - 5)}))
