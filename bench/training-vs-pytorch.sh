#!/usr/bin/env bash
# DL4J training throughput against PyTorch on CPU, side by side in one run (issue 16 item 5): one
# thread each, the same networks (our small CNN, the MLP 400-64-4), batch 32, Adam, synthetic data,
# 200 steps after 20 warm-up steps. Each repeat runs DL4J's default path, PyTorch, and DL4J's plain
# path (oneDNN helpers off, no cache: DL4J M2.1 as it comes) in turn, per model; prints the median
# of each and the ratios. PyTorch is Debian's python3-torch (apt-get install python3-torch).
# Usage: bench/training-vs-pytorch.sh [REPEATS] [STEPS]   (default 3 200)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-3}"
steps="${2:-200}"
python="${MEDFED_PYTHON:-/usr/bin/python3}"
"$python" -c 'import torch' 2>/dev/null \
  || { echo "PyTorch missing for $python: apt-get install python3-torch (or set MEDFED_PYTHON)" >&2; exit 1; }
. bench/lib.sh
medfed_build examples
classpath="$(medfed_classpath examples)"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
for repeat in $(seq "$repeats"); do
  for model in small-cnn mlp; do
    java -Xmx1g -cp "$classpath" org.medfed.examples.bench.TrainingThroughputBench "$model" fast "$steps" \
      2>/dev/null | grep '^samples/s' | sed "s/^/$repeat /" | tee -a "$out"
    "$python" bench/pytorch_throughput.py "$model" "$steps" | sed "s/^/$repeat /" | tee -a "$out"
    java -Xmx1g -cp "$classpath" org.medfed.examples.bench.TrainingThroughputBench "$model" plain "$steps" \
      2>/dev/null | grep '^samples/s' | sed "s/^/$repeat /" | tee -a "$out"
  done
done
# Medians of each side, and the median of the ratios taken repeat by repeat (a pair ran back to
# back, so its ratio holds when the machine's speed drifts during the run).
awk '
  { v[$3 " " $4] = v[$3 " " $4] " " $5; r[$1 " " $3 " " $4] = $5; c[$1 " " $3 " " $4] = $7; reps[$1] = 1 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function ratios(model, a, b,   k, list) {
    list = ""
    for (k in reps) list = list " " r[k " " model " " a] / r[k " " model " " b]
    return median(list)
  }
  function cpuRatios(model, a, b,   k, list) {
    list = ""
    for (k in reps) list = list " " c[k " " model " " a] / c[k " " model " " b]
    return median(list)
  }
  END {
    split("small-cnn mlp", models, " ")
    for (m = 1; m <= 2; m++) {
      model = models[m]
      printf "%s: DL4J default %.0f, DL4J plain %.0f, PyTorch %.0f samples/s (medians)\n", model,
        median(v[model " fast"]), median(v[model " plain"]), median(v[model " pytorch"])
      printf "ratio %s DL4J default / PyTorch: %.2f\n", model, ratios(model, "fast", "pytorch")
      printf "ratio %s DL4J plain / PyTorch: %.3f\n", model, ratios(model, "plain", "pytorch")
      printf "ratio %s DL4J default / DL4J plain: %.2f\n", model, ratios(model, "fast", "plain")
      printf "ratio %s per CPU second, DL4J default / PyTorch: %.2f, DL4J plain / PyTorch: %.3f, default / plain: %.2f\n",
        model, cpuRatios(model, "fast", "pytorch"), cpuRatios(model, "plain", "pytorch"), cpuRatios(model, "fast", "plain")
    }
  }' "$out"
