"""Request loop shared by the PyTorch peer scripts: bench/src/torchPeer.ts starts a script once and
alternates measurement windows with its own, so both sides see the same machine load.

Each stdin line "<figure> <seconds>" runs that figure's callable for about <seconds> (after a warm-up
the first time) and answers one JSON line: {"figure", "threads", "calls_per_s", "torch"}.
"""
import json
import sys
import time

import torch


def serve(figures):
    """figures: {name: zero-argument callable}."""
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    warmed = set()
    for line in sys.stdin:
        name, seconds = line.split()
        f = figures[name]
        if name not in warmed:
            for _ in range(5):
                f()
            warmed.add(name)
        calls, t0 = 0, time.perf_counter()
        while True:
            f()
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= float(seconds):
                break
        print(json.dumps({"figure": name, "threads": torch.get_num_threads(), "calls_per_s": calls / elapsed,
                          "torch": torch.__version__}), flush=True)
