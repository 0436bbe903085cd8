#!/usr/bin/env bash
# One round with 10 agent processes on loopback and a ~1M-parameter model, secure aggregation on
# vs off, alternating in the same run: prints wall-time and wire-byte ratios.
# Usage: bench/secure-round-bench.sh [AGENTS] [REPEATS] [SAMPLES_PER_HOSPITAL] [WARM_UP_PAIRS]   (default 10 3 60 1)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -DskipTests install
mvn -q -B -pl examples dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
OMP_NUM_THREADS=1 exec java -Xmx2g -cp "examples/target/classes:$(cat examples/target/bench.classpath)" \
  org.medfed.examples.bench.SecureRoundBench "${1:-10}" "${2:-3}" "${3:-60}" "${4:-1}"
