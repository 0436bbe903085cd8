#!/usr/bin/env bash
# Every benchmark's headline ratios, one line each (issue 16 item 6); each benchmark's whole output
# goes to results-out/bench-all/NAME.log. Builds once, then runs:
#   mask expansion against `openssl speed` and the coordinator's sum against a plain float sum
#   (secagg-bench.sh), a 100M-parameter round trip against raw loopback TCP (transfer-bench.sh),
#   the secure round's critical path and bytes against plaintext (secure-round-bench.sh, the demo's
#   imaging model, 10 hospitals), DL4J against PyTorch (training-vs-pytorch.sh), and round time and
#   coordinator heap per hospital at n = 10, 100, 300 and 1000 (simulate.sh, SecAgg+, 5% dropout).
# Usage: bench/all.sh [--quick]   --quick: 10M parameters, n = 10 and 100, fewer repeats (minutes, not hours)
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = --quick ] && quick=1
out=results-out/bench-all
mkdir -p "$out"
. bench/lib.sh
medfed_build examples && medfed_build secagg || { echo "build failed" >&2; exit 1; }
export MEDFED_BENCH_BUILT=1

echo "# bench/all.sh$([ $quick = 1 ] && echo ' --quick'), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), commit $(git rev-parse --short HEAD 2>/dev/null)"

# run NAME PATTERN COMMAND...: runs a benchmark into its log and prints its lines matching PATTERN.
run() {
  local name=$1 pattern=$2
  shift 2
  local started=$SECONDS
  if "$@" >"$out/$name.log" 2>&1; then
    grep -E "$pattern" "$out/$name.log" | sed "s/^/$name: /"
  else
    echo "$name: FAILED after $((SECONDS - started)) s (exit $?); see $out/$name.log: $(tail -1 "$out/$name.log")"
  fi
}

run secagg '^(ratio|aggregation)' bench/secagg-bench.sh 100000
if [ $quick = 1 ]; then
  run transfer '^(round trip|ratio round trip|coordinator heap|hospital JVM)' bench/transfer-bench.sh --parameters 10000000
  run secure-round '^(critical-path ratio|bytes per round)' bench/secure-round-bench.sh 10 2 60 1 imaging
  run training '^ratio (small-cnn|mlp) DL4J default / PyTorch' bench/training-vs-pytorch.sh 1 100
  sizes="10 100"
else
  run transfer '^(round trip|ratio round trip|coordinator heap|hospital JVM)' bench/transfer-bench.sh --parameters 100000000 \
    --rounds 4
  run secure-round '^(critical-path ratio|bytes per round)' bench/secure-round-bench.sh 10 5 300 2 imaging
  run training '^ratio (small-cnn|mlp) DL4J default / PyTorch' bench/training-vs-pytorch.sh 3 200
  sizes="10 100 300 1000"
fi
for n in $sizes; do
  run "simulate-$n" "^(round [0-9]+:|coordinator heap|[0-9]+ agents connected|CPU:|hospitals' protocol CPU)" \
    bench/simulate.sh "$n" --dropout 0.05 --work-dir "results-out/simulate-$n"
done
