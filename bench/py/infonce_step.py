"""PyTorch CPU peer of bench/src/train-step.bench.ts: the same InfoNCE training step on cached
384-d embeddings, batch 64 anchors x (64 positives ++ 64 hard negatives), ~2% masked false
negatives (the positive never), temperature 0.05: gather rows, head forward, L2 normalise, cosine
matrix, masked cross entropy, backward, global-norm clipping to 1, AdamW (lr 1e-3, weight decay 0.01
on weights, biases exempt).

Usage: /usr/bin/python3 bench/py/infonce_step.py <threads>   (then requests on stdin, see peer.py)
Figures: "linear" (Linear 384x384 head) and "lowrank" (rank-16 residual adapter); one call is one step
of B = 64 examples.
"""
import random
import sys

import torch
import torch.nn.functional as F

from peer import serve

D, B, H, RANK, POOL, TAU = 384, 64, 64, 16, 8192, 0.05


class LowRank(torch.nn.Module):
    """y = x + (x·D)·U, U = 0 at start (tensor's LowRankResidualAdapter)."""

    def __init__(self):
        super().__init__()
        self.down = torch.nn.Parameter(torch.randn(D, RANK) / D ** 0.5)
        self.up = torch.nn.Parameter(torch.zeros(RANK, D))

    def forward(self, x):
        return x + (x @ self.down) @ self.up


def make_head(kind):
    if kind == "linear":
        head = torch.nn.Linear(D, D)
        with torch.no_grad():
            head.weight.copy_(torch.eye(D))
            head.bias.zero_()
        groups = [{"params": [head.weight], "weight_decay": 0.01}, {"params": [head.bias], "weight_decay": 0.0}]
    else:
        head = LowRank()
        groups = [{"params": list(head.parameters()), "weight_decay": 0.01}]
    return head, torch.optim.AdamW(groups, lr=1e-3)


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    anchors, positives, negatives = torch.randn(POOL, D), torch.randn(POOL, D), torch.randn(POOL, D)
    mask = torch.zeros(B * (B + H), dtype=torch.bool)
    mask[::53] = True
    mask = mask.view(B, B + H)
    mask.fill_diagonal_(False)
    labels = torch.arange(B)
    rng = random.Random(1)

    def make_step(kind):
        head, opt = make_head(kind)

        def step():
            idx = torch.tensor(rng.sample(range(POOL), B))
            neg = torch.tensor(rng.sample(range(POOL), H))
            opt.zero_grad()
            y = head(torch.cat([anchors[idx], positives[idx], negatives[neg]]))
            y = F.normalize(y, dim=1, eps=1e-12)
            scores = (y[:B] @ y[B:].T).masked_fill(mask, float("-inf"))
            loss = F.cross_entropy(scores / TAU, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
            opt.step()

        return step

    serve({kind: make_step(kind) for kind in ("linear", "lowrank")})


if __name__ == "__main__":
    main()
