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
# JavaCPP forces a GC when the process's resident memory passes AGENTS_RESIDENT: a safety net for
# ND4J's off-heap arrays, which a large heap collects late (the kernel once killed n = 1000 at 22 GB).
# Its own process group, so that a coordinator left behind when the kernel kills this JVM goes too.
set -m
OMP_NUM_THREADS=1 java -Xmx${AGENTS_HEAP:-12g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=${AGENTS_RESIDENT:-16g} -cp "$(medfed_classpath examples)" \
  org.medfed.examples.bench.Simulate "$@" &
pid=$!
trap 'kill -- -$pid 2>/dev/null' INT TERM
status=0
wait $pid || status=$?
kill -- -$pid 2>/dev/null || true
exit $status
