#!/usr/bin/env bash
# Fed-TCGA-BRCA (FLamby): local, pooled and federated (a chosen strategy, secure aggregation, mTLS) linear Cox
# models, scored as FLamby does. Reads ../shared/data/tcga-brca (or --data DIR); writes results-out/.
# Usage: bench/tcga-brca.sh [--strategy fedavg|fedprox|scaffold|fedadagrad|fedadam|fedyogi] [--hyperparameters ours|flamby]
#        [--seeds 42,43,44] [--rounds N] [--local-epochs 3] [--fed-lr R] [--server-lr R]
#        [--beta2 B] [--tau T] [--no-baselines]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build examples
OMP_NUM_THREADS=1 exec java -Xmx3g -cp "$(medfed_classpath examples)" \
  org.medfed.examples.results.TcgaBrcaBenchmark "$@"
