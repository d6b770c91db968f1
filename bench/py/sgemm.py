"""PyTorch CPU peer of bench/src/sgemm.bench.ts: C = A·B into a preallocated C (torch.mm(out=)).

Usage: /usr/bin/python3 bench/py/sgemm.py <threads> MxNxK...   (then requests on stdin, see peer.py)
Figures are named by their shape, e.g. "192x384x384".
"""
import sys

import torch

from peer import serve


def main():
    threads, shapes = int(sys.argv[1]), sys.argv[2:]
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    figures = {}
    for shape in shapes:
        m, n, k = (int(v) for v in shape.split("x"))
        a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
        figures[shape] = lambda a=a, b=b, c=c: torch.mm(a, b, out=c)
    serve(figures)


if __name__ == "__main__":
    main()
