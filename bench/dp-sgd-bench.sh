#!/usr/bin/env bash
# DP-SGD throughput over plain SGD throughput on the same model, same machine, same run (issue 14
# item 6): the catalog's MLP and small CNN through the hospital's real trainer, arms alternating.
# Usage: bench/dp-sgd-bench.sh [REPEATS] [RECORDS]   (default 3 1024); one ND4J thread unless OMP_NUM_THREADS is set
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build examples
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" exec java -Xmx2g -cp "$(medfed_classpath examples)" \
  org.medfed.examples.bench.DpSgdBench "${1:-3}" "${2:-1024}"
