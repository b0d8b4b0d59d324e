#!/bin/bash
# The WebGPU benchmark and PyTorch on the same GPU, on a machine with an NVIDIA driver but no node, no
# Vulkan loader and no network; run from the repo, with the folder scripts/gpu/prepare.sh made beside it.
#
#   bash scripts/gpu/run.sh [PACK] [RUNS] [FLAGS ...]   (PACK default: .gpu-bench; RUNS steady encodes, default 40)
#
# Prints the benchmark (`npm run bench -- --backends webgpu`), PyTorch's times (training/speed.py), and a
# line `summary: …` with both and their ratio; copies the logs to $OUT where that is set. Each FLAGS
# (`A=1,B=true`) then runs the benchmark again with those tfjs WebGPU flags (`--webgpu-flags`), to tune
# them: one `sweep: FLAGS | …` line each.
# Env: VK_DRIVER_FILES (default: the NVIDIA ICD where present, else lavapipe), MMNET_TORCH_DEVICE
# (default cuda where nvidia-smi exists, else cpu), MMNET_PYTHON (python3), MMNET_GPU_WORK (/tmp/mmnet-gpu).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PACK=$(realpath "${1:-$REPO/.gpu-bench}")
RUNS=${2:-40}
SWEEP=("${@:3}")
PY=${MMNET_PYTHON:-python3}
W=${MMNET_GPU_WORK:-/tmp/mmnet-gpu}
# The bundles find models/, public/models/ and ../shared/fixtures by walking up from their own place to models/ (src/model/testing/paths.ts):
# lay out a repo for them under $W.
STAGE=$W/repo
rm -rf "$W"
mkdir -p "$STAGE/scripts" "$STAGE/node_modules/webgpu/dist/linux-x64" "$W/shared/fixtures" "$W/bin"
xz -dc "$PACK/node.xz" > "$W/bin/node"
chmod +x "$W/bin/node"
cp "$PACK"/webgpu/index.js "$PACK"/webgpu/package.json "$STAGE/node_modules/webgpu/"
xz -dc "$PACK/webgpu/dawn.node.xz" > "$STAGE/node_modules/webgpu/dist/linux-x64/dawn.node"
cp "$PACK"/*.mjs "$STAGE/scripts/"
cp "$PACK"/fixtures/* "$W/shared/fixtures/"
ln -s "$REPO/models" "$STAGE/models"
# The model build keys its output on the quantiser's sources.
ln -s "$REPO/src" "$STAGE/src"
mkdir -p "$STAGE/scripts/build"
cp "$REPO/scripts/build/quantize.ts" "$STAGE/scripts/build/"

# The NVIDIA driver brings its Vulkan ICD but not the loader nor glvnd.
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in "$PACK"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -e "$NVIDIA_ICD" ]; then export VK_DRIVER_FILES=$NVIDIA_ICD; fi
if [ -z "${MMNET_TORCH_DEVICE:-}" ]; then
  if command -v nvidia-smi >/dev/null; then MMNET_TORCH_DEVICE=cuda; else MMNET_TORCH_DEVICE=cpu; fi
fi
GPU=$( (nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo "no NVIDIA GPU") | head -1)
echo "GPU: $GPU; Vulkan driver: ${VK_DRIVER_FILES:-lavapipe}; node $("$W/bin/node" --version)"

HEAD_DIR="$REPO/models/$(cat "$REPO/models/DEFAULT_HEAD")"
"$PY" "$REPO/training/random_trunk.py" "$W/trunk/resnet_v2_101"
if [ -d "$PACK/model" ]; then
  MODEL=$PACK/model
else
  MMNET_MODELS_DIR=$W/trunk "$W/bin/node" "$STAGE/scripts/build-models.mjs" --out "$W/model"
  MODEL=$W/model
fi

"$W/bin/node" "$STAGE/scripts/bench.mjs" --backends webgpu --runs "$RUNS" --model "$MODEL" 2>&1 | grep -v '^Warning: max' | tee "$W/bench.txt"
PYTHONUNBUFFERED=1 "$PY" "$REPO/training/speed.py" --device "$MMNET_TORCH_DEVICE" --runs "$RUNS" \
  --trunk "$W/trunk/resnet_v2_101" --head "$HEAD_DIR" 2>&1 | tee "$W/torch.txt"

TORCH=$(grep '^torch_ms_' "$W/torch.txt" | tail -1)
# A bench log's last line, and its steady encode over PyTorch fp32's.
result() {
  local line
  line=$(grep '^encode_ms_webgpu=' "$1" | tail -1)
  echo "$line | webgpu/torch_fp32=$(awk -v a="${line#encode_ms_webgpu=}" -v b="${TORCH#torch_ms_fp32=}" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2f", x[1] / y[1] }')"
}
echo "summary: $GPU | $TORCH | $(result "$W/bench.txt")"

: > "$W/sweep.txt"
for flags in "${SWEEP[@]}"; do
  "$W/bin/node" "$STAGE/scripts/bench.mjs" --backends webgpu --runs "$RUNS" --model "$MODEL" --webgpu-flags "$flags" 2>&1 | grep -v '^Warning: max' > "$W/one.txt"
  cat "$W/one.txt" >> "$W/sweep.txt"
  echo "sweep: $flags | $(result "$W/one.txt")"
done
if [ -n "${OUT:-}" ]; then cp "$W/bench.txt" "$W/torch.txt" "$W/sweep.txt" "$OUT/"; fi
