"""PyTorch peer of bench/train-step.ts: the BERT-mini MLM train step, doc-encoding throughput and GEMM 1024^3.

Same model as realm-lm's (2 layers, hidden 256, 4 heads, intermediate 1024, vocab 8000, max_position 512, erf GELU,
post-LN, LayerNorm eps 1e-12, dropout 0.1 in training), same inputs (bench/peers/train_step_inputs.json) and, when
--weights is given, the same initial weights (a safetensors file with HF BERT names written by bench/train-step.ts).
The MLM head runs only on the gathered masked positions (as the original BERT code does); the decoder is tied to the
word embeddings; the optimiser is torch.optim.AdamW (lr 1e-4, weight decay 0.01, none on biases and LayerNorm).
Attention uses F.scaled_dot_product_attention with an additive padding mask, as HF's BertSdpaSelfAttention does.

Usage: python torch_train_step.py --inputs F [--weights W] [--threads 1,2] [--steps 20] [--warmup 3]
Prints one JSON object on stdout.
"""
import argparse
import json
import math
import platform
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = dict(vocab_size=8000, hidden_size=256, num_hidden_layers=2, num_attention_heads=4, intermediate_size=1024,
           max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12, hidden_dropout_prob=0.1,
           attention_probs_dropout_prob=0.1, proj_size=128)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, I = c['hidden_size'], c['intermediate_size']
        self.heads = c['num_attention_heads']
        self.p_attn = c['attention_probs_dropout_prob']
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.attn_out = nn.Linear(H, H)
        self.attn_ln = nn.LayerNorm(H, eps=c['layer_norm_eps'])
        self.inter = nn.Linear(H, I)
        self.out = nn.Linear(I, H)
        self.out_ln = nn.LayerNorm(H, eps=c['layer_norm_eps'])
        self.drop = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, x, mask_bias):
        B, T, H = x.shape
        nh, hd = self.heads, H // self.heads
        q = self.query(x).view(B, T, nh, hd).transpose(1, 2)
        k = self.key(x).view(B, T, nh, hd).transpose(1, 2)
        v = self.value(x).view(B, T, nh, hd).transpose(1, 2)
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask_bias,
                                             dropout_p=self.p_attn if self.training else 0.0)
        ctx = ctx.transpose(1, 2).reshape(B, T, H)
        x = self.attn_ln(x + self.drop(self.attn_out(ctx)))
        h = F.gelu(self.inter(x))
        return self.out_ln(x + self.drop(self.out(h)))


class BertMini(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, V = c['hidden_size'], c['vocab_size']
        self.word = nn.Embedding(V, H)
        self.pos = nn.Embedding(c['max_position_embeddings'], H)
        self.tok_type = nn.Embedding(c['type_vocab_size'], H)
        self.emb_ln = nn.LayerNorm(H, eps=c['layer_norm_eps'])
        self.drop = nn.Dropout(c['hidden_dropout_prob'])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c['num_hidden_layers'])])
        self.pooler = nn.Linear(H, H)
        # MLM head (decoder tied to self.word.weight) and the RealmEmbedder-style 128-d projection.
        self.mlm_dense = nn.Linear(H, H)
        self.mlm_ln = nn.LayerNorm(H, eps=c['layer_norm_eps'])
        self.mlm_bias = nn.Parameter(torch.zeros(V))
        self.proj = nn.Linear(H, c['proj_size'])
        self.proj_ln = nn.LayerNorm(c['proj_size'], eps=c['layer_norm_eps'])
        for m in self.modules():  # BERT init: N(0, 0.02), zero bias (LayerNorm defaults are ones/zeros)
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

    def encode(self, ids, types, mask):
        B, T = ids.shape
        pos = torch.arange(T).unsqueeze(0)
        x = self.drop(self.emb_ln(self.word(ids) + self.pos(pos) + self.tok_type(types)))
        mask_bias = ((1.0 - mask.to(torch.float32)) * -10000.0)[:, None, None, :]  # [B, 1, 1, T]
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x

    def mlm_loss(self, ids, types, mask, positions, labels):
        seq = self.encode(ids, types, mask)                       # [B, T, H]
        h = seq.reshape(-1, seq.shape[-1]).index_select(0, positions)  # [M, H]
        h = self.mlm_ln(F.gelu(self.mlm_dense(h)))
        logits = F.linear(h, self.word.weight, self.mlm_bias)     # [M, V]
        return F.cross_entropy(logits, labels)

    def embed_docs(self, ids, types, mask):
        seq = self.encode(ids, types, mask)
        pooled = torch.tanh(self.pooler(seq[:, 0]))
        return self.proj_ln(self.proj(pooled))                    # [B, 128]


HF_NAMES = {  # our module names -> HF names (per-layer names are added below)
    'word.weight': 'bert.embeddings.word_embeddings.weight',
    'pos.weight': 'bert.embeddings.position_embeddings.weight',
    'tok_type.weight': 'bert.embeddings.token_type_embeddings.weight',
    'emb_ln.weight': 'bert.embeddings.LayerNorm.weight', 'emb_ln.bias': 'bert.embeddings.LayerNorm.bias',
    'pooler.weight': 'bert.pooler.dense.weight', 'pooler.bias': 'bert.pooler.dense.bias',
    'mlm_dense.weight': 'cls.predictions.transform.dense.weight', 'mlm_dense.bias': 'cls.predictions.transform.dense.bias',
    'mlm_ln.weight': 'cls.predictions.transform.LayerNorm.weight', 'mlm_ln.bias': 'cls.predictions.transform.LayerNorm.bias',
    'mlm_bias': 'cls.predictions.bias',
    'proj.weight': 'cls.dense.weight', 'proj.bias': 'cls.dense.bias',
    'proj_ln.weight': 'cls.LayerNorm.weight', 'proj_ln.bias': 'cls.LayerNorm.bias',
}
LAYER_NAMES = {'query': 'attention.self.query', 'key': 'attention.self.key', 'value': 'attention.self.value',
               'attn_out': 'attention.output.dense', 'attn_ln': 'attention.output.LayerNorm',
               'inter': 'intermediate.dense', 'out': 'output.dense', 'out_ln': 'output.LayerNorm'}


def hf_name(name):
    if name in HF_NAMES:
        return HF_NAMES[name]
    _, i, mod, kind = name.split('.')
    return f'bert.encoder.layer.{i}.{LAYER_NAMES[mod]}.{kind}'


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        if h['dtype'] != 'F32':
            raise ValueError(f'{path}: tensor {name} has dtype {h["dtype"]}, expected F32')
        a, b = h['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(h['shape'])
    return out


def load_weights(model, path):
    tensors = read_safetensors(path)
    with torch.no_grad():
        for name, p in model.named_parameters():
            t = tensors.get(hf_name(name))
            if t is None or tuple(t.shape) != tuple(p.shape):
                raise ValueError(f'{path}: tensor {hf_name(name)} missing or of wrong shape')
            p.copy_(t)


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--inputs', required=True)
    ap.add_argument('--weights')
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--encode-iters', type=int, default=5)
    ap.add_argument('--gemm-iters', type=int, default=10)
    args = ap.parse_args()
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    with open(args.inputs) as f:
        inp = json.load(f)
    tr, en = inp['train'], inp['encode']
    B, T = tr['batch'], tr['seqLen']
    ids = torch.tensor(tr['inputIds'], dtype=torch.long).view(B, T)
    types = torch.tensor(tr['tokenTypeIds'], dtype=torch.long).view(B, T)
    mask = torch.tensor(tr['attentionMask'], dtype=torch.long).view(B, T)
    positions = torch.tensor(tr['maskedPositions'], dtype=torch.long)
    labels = torch.tensor(tr['maskedLabels'], dtype=torch.long)
    eB, eT = en['batch'], en['seqLen']
    e_ids = torch.tensor(en['inputIds'], dtype=torch.long).view(eB, eT)
    e_types = torch.tensor(en['tokenTypeIds'], dtype=torch.long).view(eB, eT)
    e_mask = torch.tensor(en['attentionMask'], dtype=torch.long).view(eB, eT)

    model = BertMini(CFG)
    if args.weights:
        load_weights(model, args.weights)
    model.eval()
    with torch.no_grad():
        initial_loss = model.mlm_loss(ids, types, mask, positions, labels).item()
    decay = [p for n, p in model.named_parameters() if not (n.endswith('bias') or '_ln.' in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith('bias') or '_ln.' in n]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=1e-4, betas=(0.9, 0.999), eps=1e-6)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model.mlm_loss(ids, types, mask, positions, labels)
        loss.backward()
        opt.step()
        return loss.item()

    result = {'peer': 'torch', 'torch_version': torch.__version__, 'blas': blas_info(),
              'python': platform.python_version(), 'initial_loss': initial_loss, 'dropout': CFG['hidden_dropout_prob'],
              'steps': args.steps, 'warmup': args.warmup, 'by_threads': {}}
    for nt in [int(x) for x in args.threads.split(',')]:
        torch.set_num_threads(nt)
        model.train()
        for _ in range(args.warmup):
            step()
        times, losses = [], []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            losses.append(step())
            times.append((time.perf_counter() - t0) * 1e3)
        model.eval()
        with torch.no_grad():
            model.embed_docs(e_ids, e_types, e_mask)
            enc = []
            for _ in range(args.encode_iters):
                t0 = time.perf_counter()
                model.embed_docs(e_ids, e_types, e_mask)
                enc.append(time.perf_counter() - t0)
            a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
            torch.matmul(a, b)
            gt = []
            for _ in range(args.gemm_iters):
                t0 = time.perf_counter()
                torch.matmul(a, b)
                gt.append(time.perf_counter() - t0)
        result['by_threads'][str(nt)] = {
            'step_ms': median(times), 'step_ms_min': min(times), 'last_loss': losses[-1],
            'encode_per_s': eB / median(enc), 'gemm_gflops': 2 * 1024 ** 3 / median(gt) / 1e9}
    print(json.dumps(result))


def blas_info():
    cfg = torch.__config__.show()
    for key in ('BLAS_INFO=', ):
        i = cfg.find(key)
        if i >= 0:
            return cfg[i + len(key):].split(',')[0]
    return 'unknown'


if __name__ == '__main__':
    main()
