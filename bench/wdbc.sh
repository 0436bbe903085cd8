#!/usr/bin/env bash
# Breast Cancer Wisconsin (569 real cases) over 3 hospitals with label skew: local, pooled and
# federated (FedAvgM, secure aggregation, mTLS) accuracy. Needs Debian's python3-sklearn (breast_cancer.csv).
# Usage: bench/wdbc.sh [--seeds 1,2,3] [--rounds 40] [--alpha 0.5] [--strategies fedavgm,fedadam,...] [--dp-epsilons 1,3,8]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build examples
OMP_NUM_THREADS=1 exec java -Xmx3g -cp "$(medfed_classpath examples)" \
  org.medfed.examples.results.WdbcBenchmark "$@"
