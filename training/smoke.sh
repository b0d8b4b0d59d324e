#!/bin/bash
# npm run train:smoke — a few training steps at 96x128 on CPU, an export, a tfjs parity check of that export,
# two steps of the cached-feature CPU fine-tune (distill.py) with its export, one step of its fused objective,
# one of self-training on labels made by the tfjs model (scripts/train/pseudo-labels.ts), and the PF-WILLOW
# val/test split.
# Needs Debian's python3-torch (/usr/bin/python3, or $MMNET_PYTHON), numpy, PIL, and ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${MMNET_PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
start=$(date +%s)
echo "== train (CPU, 96x128, 2 steps)"
"$PY" training/train.py --device cpu --H 96 --W 128 --steps 2 --batch-syn 1 --batch-sem 1 --pts 16 \
  --max-classes 2 --max-per-class 3 --no-eval --threads 2 --out "$TMP/run"
echo "== export"
"$PY" training/export.py --npz "$TMP/run/head_best_part1.npz" "$TMP/run/head_best_part2.npz" --out "$TMP/head" --no-readme
echo "== torch features of the export (pattern fixture, 224x320)"
"$PY" training/dump_features.py --head "$TMP/head" --out "$TMP/ref"
echo "== tfjs model of the export (float16: the parity limit is float16's)"
npx tsx scripts/build/build-models.ts --head "$TMP/head" --quantize float16 --out "$TMP/model"
echo "== tfjs parity"
npx tsx scripts/build/check-head-export.ts --model "$TMP/model" --ref "$TMP/ref"
echo "== distill (CPU fine-tune from cached features: 2 steps on 4 photos)"
"$PY" training/distill.py --max-classes 2 --per-class 2 --synthetic 2 --batch-sem 1 --batch-syn 1 --steps 2 \
  --no-eval --threads 2 --cache "$TMP/cache" --out "$TMP/distill"
"$PY" training/export.py --npz "$TMP/distill/head_best_part1.npz" "$TMP/distill/head_best_part2.npz" --out "$TMP/head2" --no-readme
echo "== distill --objective fused (1 step, same cache)"
"$PY" training/distill.py --objective fused --max-classes 2 --per-class 2 --synthetic 2 --batch-sem 1 --batch-syn 1 \
  --steps 1 --no-eval --threads 2 --cache "$TMP/cache" --out "$TMP/distill-fused"
echo "== self-training: labels from the tfjs model's default prediction (4 photos), 1 step of distill --labels"
npx tsx scripts/train/pseudo-labels.ts --per-class 2 --max-classes 2 --model "$TMP/model" --out "$TMP/labels.json"
"$PY" training/distill.py --labels "$TMP/labels.json" --label-confidence 0 --synthetic 2 --batch-sem 1 --batch-syn 1 \
  --steps 1 --no-eval --threads 2 --cache "$TMP/cache" --out "$TMP/distill-labels"
echo "== PF-WILLOW val/test split (scripts/eval/pf-willow-split.json)"
"$PY" - <<'PY'
import sys
sys.path.insert(0, "training")
import eval_willow as E
w = E.Willow()
pairs = {k: set(v.tolist()) for k, v in w.split_pairs.items()}
n = {k: len(v) for k, v in pairs.items()}
assert n == {"all": 900, "val": 120, "test": 300} and not pairs["val"] & pairs["test"], n
print("split pairs", n)
PY
echo "train:smoke OK in $(( $(date +%s) - start ))s"
