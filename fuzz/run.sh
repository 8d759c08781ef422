#!/usr/bin/env bash
# Fuzz the zgen C runtime with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, over the
# pipelines zgen generates for the samples (their src/pipeline.c: configuration, steps, tables).
#
#   bash fuzz/run.sh [SECONDS_PER_SAMPLE] [SAMPLE...]      (default: 120 s each, every sample)
#
# Needs clang with its fuzzer runtime (Debian: apt-get install clang libclang-rt-14-dev). Builds in
# fuzz/out/ (not committed); a finding stops that sample's run, leaves crash-* there and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
shift || true
samples=("$@")
[ ${#samples[@]} -gt 0 ] || samples=(anomaly gesture sine environmental keyword vibration fall)
out=fuzz/out
mkdir -p "$out"
status=0
for s in "${samples[@]}"; do
  manifest=$(ls samples/"$s"/"$s".yaml)
  app="$out/$s/app"
  python3 -m zgen new "$manifest" -o "$app" --force >/dev/null
  bin="$out/$s/fuzz"
  clang -g -O1 -std=c11 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -I app_template/lib/zgen/include -I "$app/src" \
    fuzz/zgen_fuzz.c app_template/lib/zgen/src/*.c "$app/src/pipeline.c" -lm -o "$bin"
  mkdir -p "$out/$s/corpus"
  echo "fuzz: $s for ${seconds} s"
  if ! (cd "$out/$s" && ./fuzz -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
        corpus 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|Done)" ); then
    status=1
  fi
  if ls "$out/$s"/crash-* "$out/$s"/leak-* "$out/$s"/timeout-* >/dev/null 2>&1; then
    echo "fuzz: $s: FINDING: $(ls "$out/$s"/crash-* "$out/$s"/leak-* "$out/$s"/timeout-* 2>/dev/null | head -3)"
    status=1
  fi
done
exit $status
