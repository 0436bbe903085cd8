#!/usr/bin/env bash
# Samples the CPU time of every thread of one process, once a second, until it exits; one line per
# thread and sample: "epoch_ms tid thread_name cpu_ticks" (ticks of 1/CLK_TCK s, user + system).
# Used beside bench/secure-round-bench.sh to see which threads of an agent use the CPU, e.g.:
#   bench/thread-cpu-sampler.sh '[A]gentMain.*hospital-a' /tmp/threads-a.txt &
#   bench/secure-round-bench.sh 10 10 60 4
# The pattern is a `pgrep -f` regex; the brackets keep it from matching this script's own command line.
set -u
pattern=$1
out=$2
pid=""
while [ -z "$pid" ]; do
  pid=$(pgrep -f "$pattern" | head -1)
  [ -n "$pid" ] || sleep 0.5
done
while [ -d "/proc/$pid" ]; do
  now=$(date +%s%3N)
  for stat in /proc/"$pid"/task/*/stat; do
    read -r line < "$stat" 2>/dev/null || continue
    tid=${line%% *}
    rest=${line#*(}
    name=${rest%%)*}
    # Fields after the name: state is the 1st, utime the 12th, stime the 13th.
    set -- ${rest#*) }
    echo "$now $tid ${name// /_} $((${12} + ${13}))"
  done
  sleep 1
done > "$out"
