#!/usr/bin/env bash
# The prepared benchmark run for a borrowed GPU machine (../shared/gpu/README.md):
#   here:  bash ../shared/gpu/prepare.sh && node tools/run.mjs --bundle bench
#   there: bash .gpu/run.sh bash tools/gpu-bench.sh      (carry .gpu and dist-node)
# Each suite runs in its own process with its own time limit and writes $OUT/<suite>.json and
# .log, so one failure does not lose the others. The order puts the most wanted numbers first.
set -u
out=${OUT:-/tmp/bench-out}
mkdir -p "$out"
run() {
  local name=$1 limit=$2; shift 2
  echo "== $name (limit ${limit}s)"
  timeout "$limit" node dist-node/bench.mjs "$@" --json "$out/$name.json" > "$out/$name.log" 2>&1
  echo "rc=$?"
  tail -n 6 "$out/$name.log"
}
run flux 200 --model flux --warmup 1 --repetitions 3
run characonsist 170 --characonsist
run vae 90 --suite vae --warmup 1 --repetitions 3
run t5 60 --suite t5 --warmup 1 --repetitions 3
run clip 30 --suite clip --warmup 1 --repetitions 3
