#!/usr/bin/env bash
# Diagnostic beside bench/wdbc.sh: in-process FedAvg and pooled on WDBC's 3 skewed hospitals with the
# benchmark's log1p features, and with a consortium-wide z-score on top (statistics a secure sum would give).
# Usage: bench/wdbc-scaling.sh [--seeds 1,2,3] [--rounds 40]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
medfed_build examples
OMP_NUM_THREADS=1 exec java -Xmx3g -cp "$(medfed_classpath examples)" \
  org.medfed.examples.results.WdbcScalingProbe "$@"
