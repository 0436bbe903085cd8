#!/usr/bin/env bash
# Secure-aggregation benchmarks, each as a ratio or figure measured in the same run on one core:
#   mask expansion vs `openssl speed -evp aes-256-ctr`, and protocol CPU time for several n.
# Usage: bench/secagg-bench.sh [VECTOR_LENGTH]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build secagg
# openssl prints e.g. "aes-256-ctr  6123456.78k" in thousands of bytes per second.
kbps=$(taskset -c 0 openssl speed -evp aes-256-ctr -bytes 65536 -seconds 3 2>/dev/null \
  | awk '/^(aes-256-ctr|AES-256-CTR)/ {v=$NF; sub(/k$/, "", v); print v}')
taskset -c 0 java -cp "secagg/target/test-classes:secagg/target/classes:$(cat secagg/target/bench.classpath)" \
  org.medfed.secagg.protocol.SecAggBench "$(awk -v k="$kbps" 'BEGIN {print k * 1000}')" "${1:-100000}"
