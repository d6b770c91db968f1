"""PyTorch peer of finetune-step.bench.ts: the same full fine-tuning step of a MiniLM-L6-shaped BERT
encoder (6 post-LN layers, hidden 384, 12 heads, FFN 1536, vocab 30522, erf GELU, dropout 0.1),
batch 32 x 32 tokens, mean pooling + L2 norm, in-batch InfoNCE (16 x 16, tau 0.05), backward,
AdamW. Written in plain torch (Debian's python3-torch has no transformers), same shapes and ops as
Hugging Face's BertModel.

  /usr/bin/python3 bench/src/finetune_step_torch.py [steps=3] [threads=1] [mode=backbone]

mode: backbone (every parameter trains), lora (rank-8 adapters on q/k/v/o, alpha 8, base frozen:
the peft recipe), head (the encoder runs under no_grad, a 384x384 Linear head on the pooled vector
trains: what contrastive-trainer's head mode costs per step without its embedding cache).

Prints one JSON line: tokens/s, seconds per step, peak RSS (MiB).
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
MODE = sys.argv[3] if len(sys.argv) > 3 else "backbone"
RANK = 8
torch.set_num_threads(THREADS)
torch.manual_seed(0)

V, H, L, NH, FF, P, B, S = 30522, 384, 6, 12, 1536, 512, 32, 32


class LoraLinear(nn.Module):
    """y = base(x) + (alpha / r) * (x A) B with A random, B = 0; only A and B train."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.a = nn.Parameter(torch.empty(base.in_features, RANK).uniform_(-1 / math.sqrt(base.in_features), 1 / math.sqrt(base.in_features)))
        self.b = nn.Parameter(torch.zeros(RANK, base.out_features))

    def forward(self, x):
        return self.base(x) + (x @ self.a) @ self.b


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.up, self.down = nn.Linear(H, FF), nn.Linear(FF, H)
        self.drop = nn.Dropout(0.1)

    def forward(self, h, mask):
        b, s, _ = h.shape
        split = lambda x: x.view(b, s, NH, H // NH).transpose(1, 2)
        scores = split(self.q(h)) @ split(self.k(h)).transpose(-1, -2) / math.sqrt(H // NH) + mask
        ctx = (self.drop(scores.softmax(-1)) @ split(self.v(h))).transpose(1, 2).reshape(b, s, H)
        h = self.ln1(h + self.drop(self.o(ctx)))
        return self.ln2(h + self.drop(self.down(F.gelu(self.up(h)))))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.token_type = nn.Embedding(V, H), nn.Embedding(P, H), nn.Embedding(2, H)
        self.ln = nn.LayerNorm(H, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList(Layer() for _ in range(L))

    def forward(self, ids, attention):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        h = self.drop(self.ln(self.word(ids) + self.pos(pos) + self.token_type(torch.zeros_like(ids))))
        mask = (1.0 - attention[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            h = layer(h, mask)
        m = attention.unsqueeze(-1).float()
        return F.normalize((h * m).sum(1) / m.sum(1), dim=-1)


model = Bert().train()
head = nn.Linear(H, H)
if MODE == "lora":
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in model.layers:
        layer.q, layer.k, layer.v, layer.o = (LoraLinear(m) for m in (layer.q, layer.k, layer.v, layer.o))
trainable = list(head.parameters()) if MODE == "head" else [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)
gen = torch.Generator().manual_seed(1)
ids = torch.randint(5, V, (B, S), generator=gen)
attention = torch.ones(B, S, dtype=torch.long)


def step():
    opt.zero_grad(set_to_none=False)
    if MODE == "head":
        with torch.no_grad():
            pooled = model(ids, attention)
        e = F.normalize(head(pooled), dim=-1)
    else:
        e = model(ids, attention)
    scores = e[: B // 2] @ e[B // 2 :].T / 0.05
    loss = F.cross_entropy(scores, torch.arange(B // 2))
    loss.backward()
    opt.step()
    return loss.item()


step()  # warm-up (allocates AdamW state)
t0 = time.perf_counter()
for _ in range(STEPS):
    step()
seconds = (time.perf_counter() - t0) / STEPS
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peer": "pytorch", "mode": MODE, "torch": torch.__version__, "threads": THREADS, "steps": STEPS,
                  "secondsPerStep": seconds, "tokensPerSecond": B * S / seconds, "peakRssMiB": peak}))
