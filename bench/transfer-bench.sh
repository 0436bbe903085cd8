#!/usr/bin/env bash
# A large model's round trip through the real coordinator (issue 16 item 3): `medfed serve` in its own JVM,
# one hospital over mutual TLS on loopback, a plaintext job; each download and upload timed and compared
# with raw loopback TCP moving the same bytes in the same run; both processes' peak heap.
# Usage: bench/transfer-bench.sh [--parameters 100000000] [--rounds 2] [--chunk-kib 1024] [--coordinator-heap 6g]
# It also moves the same bytes over raw mutual TLS (JDK SSLSocket) and prints each transfer's CPU per GB;
# 2 rounds leave the JIT compiling through the last one: bench/all.sh uses --rounds 4.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build examples
OMP_NUM_THREADS=1 exec java -Xmx6g -cp "$(medfed_classpath examples)" \
  org.medfed.examples.bench.TransferBench "$@"
