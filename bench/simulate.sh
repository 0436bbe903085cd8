#!/usr/bin/env bash
# The real coordinator (its own JVM) and N simulated hospitals (node agents in one JVM, each with its
# own mTLS identity and connection) on loopback: round time, coordinator heap after GC per hospital
# and at peak, CPU. Secure aggregation with SecAgg+ by default (2*ceil(log2 N) neighbours).
# Usage: bench/simulate.sh N [--parameters 1000000] [--dropout 0.05 --dropout-stage shares]
#        [--latency-ms 20] [--no-secure] [--neighbours K] [--rounds R] [--coordinator-heap 4g]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build examples
OMP_NUM_THREADS=1 exec java -Xmx${AGENTS_HEAP:-12g} -cp "$(medfed_classpath examples)" \
  org.medfed.examples.bench.Simulate "$@"
