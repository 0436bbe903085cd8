#!/usr/bin/env python3
"""PyTorch's side of bench/training-vs-pytorch.sh: the networks of
examples/.../bench/TrainingThroughputBench.java, trained the same way on one thread.

Prints one line "samples/s <model> pytorch <value> per-cpu-s <value>" (per second of wall time,
and of the process's CPU time). Usage:
  pytorch_throughput.py small-cnn|mlp [steps=200] [warm_up=20] [batch=32]

small-cnn is medfed's catalog CNN (ModelCatalog.smallCnn) at 1x28x28 and 10 classes:
conv5x5(8, valid) ReLU, maxpool 2/2, conv3x3(16, valid) ReLU, maxpool 2/2, dense 64 ReLU, softmax.
mlp is 400-64-4 (ReLU, softmax). Both with Adam(lr=1e-3), Xavier-initialised, cross-entropy loss,
Gaussian features and uniformly drawn labels cut into batches before timing, as the Java side.
"""
import sys
import time

import torch
from torch import nn


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 64), nn.ReLU(), nn.Linear(64, 10))


def mlp():
    return nn.Sequential(nn.Linear(400, 64), nn.ReLU(), nn.Linear(64, 4))


def main():
    model = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    warm_up = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    torch.set_num_threads(1)
    torch.manual_seed(1)
    if model == "small-cnn":
        net, shape, classes = small_cnn(), (1, 28, 28), 10
    elif model == "mlp":
        net, shape, classes = mlp(), (400,), 4
    else:
        raise SystemExit("model must be small-cnn or mlp, got " + model)
    for layer in net:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()  # softmax + multi-class cross-entropy, as DL4J's MCXENT output layer
    batches = [(torch.randn(batch, *shape), torch.randint(0, classes, (batch,))) for _ in range(16)]

    def step(i):
        x, y = batches[i % len(batches)]
        optimiser.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimiser.step()
        return loss

    for i in range(warm_up):
        step(i)
    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        loss = step(i)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    print("samples/s %s pytorch %.1f per-cpu-s %.1f (loss %.4f, threads %d)"
          % (model, steps * batch / seconds, steps * batch / cpu_seconds, loss.item(), torch.get_num_threads()))


if __name__ == "__main__":
    main()
