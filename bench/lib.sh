# Sourced by the bench scripts. medfed_build MODULE: a reactor build of MODULE and what it needs, with
# MODULE's classpath in MODULE/target/bench.classpath. Sibling modules come from their target/classes,
# so nothing is installed into ~/.m2. Skipped when MEDFED_BENCH_BUILT=1 (bench/all.sh builds once).
medfed_build() {
  local module=$1
  if [ "${MEDFED_BENCH_BUILT:-0}" != 1 ]; then
    mvn -q -B -pl "$module" -am -DskipTests test-compile dependency:build-classpath \
      -Dmdep.outputFile=target/bench.classpath >/dev/null
  fi
}

# The classpath of MODULE's main classes after medfed_build.
medfed_classpath() {
  echo "$1/target/classes:$(cat "$1/target/bench.classpath")"
}
