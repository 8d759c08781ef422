#!/usr/bin/env bash
# zgen's main job on the anomaly sample: install zgen, generate the Zephyr app,
# run the pipeline on the host; where a Zephyr workspace exists (ZEPHYR_BASE, a
# west workspace around the current directory, or ~/zephyrproject) also build
# the firmware and run it on native_sim and QEMU against the host's lines.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e .
zgen new samples/anomaly/anomaly.yaml -o build/motor
zgen simulate samples/anomaly/anomaly.yaml | grep -E "start|event=|end"
if python3 -c "from zgen.workspace import find_workspace; raise SystemExit(find_workspace() is None)"; then
  zgen test build/motor --sim native_sim
  zgen test build/motor --sim qemu
else
  echo "no Zephyr workspace found: the firmware build and run were skipped (see README, 'Firmware')"
fi
