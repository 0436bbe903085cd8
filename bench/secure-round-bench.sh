#!/usr/bin/env bash
# One round with 10 agent processes on loopback, secure aggregation on vs off, alternating in the
# same run: prints wall-time and wire-byte ratios, each hospital's protocol CPU against its training
# CPU, the coordinator's unmasking CPU, and the critical-path ratio as if each hospital had its own
# machine (per-thread CPU; docs/benchmarks.md).
# Usage: bench/secure-round-bench.sh [AGENTS] [REPEATS] [SAMPLES_PER_HOSPITAL] [WARM_UP_PAIRS] [MODEL]
#   (default 10 3 60 1 mlp). MODEL: mlp (~1M parameters, no TLS) or imaging (the demo's imaging job,
#   mutual TLS); issue 16's acceptance figure: bench/secure-round-bench.sh 10 5 300 2 imaging
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build examples
OMP_NUM_THREADS=1 exec java -Xmx2g -cp "$(medfed_classpath examples)" \
  org.medfed.examples.bench.SecureRoundBench "${1:-10}" "${2:-3}" "${3:-60}" "${4:-1}" "${5:-mlp}"
