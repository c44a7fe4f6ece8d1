#!/usr/bin/env bash
# The prepared benchmark run for a borrowed GPU machine (../shared/gpu/README.md):
#   here:  bash ../shared/gpu/prepare.sh && node tools/run.mjs --bundle bench
#   there: bash .gpu/run.sh bash tools/gpu-bench.sh      (carry .gpu and dist-node; timeout_s 600)
# One run measures what issue 14 added, most wanted first, each suite in its own process with its
# own time limit (about 570 s in all), writing $OUT/<suite>.json and .log, so one failure does not
# lose the others:
#   variant-check  every timed kernel variant against the float64 reference on this GPU (f16 included)
#   flux           a FLUX.1-dev step at 512² and 1024², exact and 'fast' (int8 activations), each
#                  with its timeline (GPU time per kernel family, time between dispatches)
#   int8-quality   per-layer and one step's velocity error of 'fast' against exact
#   attention      every attention variant (written, generated, larger query tiles, prefetch, f16)
#   linear         every linear variant at FLUX sizes (f16 included)
#   story          identity + 4 frames end to end, stage by stage, against 5 plain images
# Every suite runs with Dawn's vulkan_enable_f16_on_nvidia toggle: without it Dawn hides
# shader-f16 on NVIDIA's Vulkan driver, and the f16 variants could be neither checked nor timed.
# The older model suites (vae, t5, clip, characonsist) are unchanged by this run's work: run them
# with `node dist-node/bench.mjs --suite NAME` when there is time left.
set -u
out=${OUT:-/tmp/bench-out}
mkdir -p "$out"
run() {
  local name=$1 limit=$2; shift 2
  echo "== $name (limit ${limit}s)"
  timeout "$limit" node dist-node/bench.mjs --dawn-toggle vulkan_enable_f16_on_nvidia "$@" --json "$out/$name.json" > "$out/$name.log" 2>&1
  echo "rc=$?"
  tail -n 8 "$out/$name.log"
}
run variant-check 45 --suite variant-check
run flux 150 --model flux --profile --skip-baseline --warmup 1 --repetitions 3
run int8-quality 75 --suite int8-quality
run attention 75 --suite attention --warmup 2 --repetitions 5
run linear 90 --suite linear --warmup 2 --repetitions 5
run story 135 --suite story
