#!/bin/bash
# Packs what `scripts/gpu/run.sh` needs on a GPU machine that has no node and no network (the NVIDIA
# H100/H200 machines: driver and PyTorch, but no Vulkan loader): node and Dawn's dawn.node (xz), esbuild
# bundles of the WebGPU benchmark (scripts/bench/bench.ts) and of the model build (scripts/build/build-models.ts), the
# two fixture images, and the Vulkan loader + glvnd .debs. Runs here, on the CPU machine, in the repo.
#
#   bash scripts/gpu/prepare.sh [--model DIR] [OUT]      (OUT default: .gpu-bench, git-ignored)
#
# Without --model the GPU machine builds the model itself from a random trunk of the real shapes
# (training/random_trunk.py: an encode costs the same whatever the weights) and the repo's default head,
# so nothing large travels. --model DIR packs that built model (real weights) if the folder stays within
# the 64 MiB a device call carries.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
LIMIT_MIB=64
MODEL=
if [ "${1:-}" = --model ]; then MODEL=$(realpath "$2"); shift 2; fi
OUT=$(realpath -m "${1:-$REPO/.gpu-bench}")
SHARED=$(realpath -m "$REPO/../shared")
cd "$REPO"

rm -rf "$OUT"
mkdir -p "$OUT/webgpu" "$OUT/fixtures" "$OUT/debs"
echo "node $(node --version) from $(readlink -f "$(command -v node)")"
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$OUT/node.xz"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$OUT/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$OUT/webgpu/dawn.node.xz"
# `require` for the CommonJS parts of tfjs inside an ES module bundle; dawn.node stays outside; kept class
# names, as the bench names kernels by their tfjs program class.
for s in bench/bench build/build-models; do
  npx esbuild "scripts/$s.ts" --bundle --platform=node --format=esm --target=node20 --keep-names --external:webgpu --log-level=warning \
    --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" \
    --outfile="$OUT/$(basename "$s").mjs"
done
cp "$SHARED"/fixtures/willow_{a,b}_224x320.rgb "$OUT/fixtures/"
(cd "$OUT/debs" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
if [ -n "$MODEL" ]; then
  [ -f "$MODEL/model.json" ] || { echo "prepare.sh: $MODEL has no model.json (build one with npm run models)" >&2; exit 1; }
  cp -r "$MODEL" "$OUT/model"
fi

MIB=$(( $(du -sb "$OUT" | cut -f1) / 1048576 ))
ls -la "$OUT" "$OUT/debs"
echo "$OUT: $MIB MiB"
if [ "$MIB" -ge "$LIMIT_MIB" ]; then
  echo "prepare.sh: $OUT is over the ${LIMIT_MIB} MiB a device call carries; drop --model (the GPU machine then builds a random-weight model)" >&2
  exit 1
fi
