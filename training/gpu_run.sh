#!/bin/bash
# Device run (training call). Runs from the repo root on the GPU machine; expects
#   /tmp/mm/models/resnet_v2_101 (unpacked by the upload call from .devdata/c1/trunk.pack, training/pack_weights.py),
#   head v0 at models/mmnet_head_v0 (tracked), and .devdata/c2/{caltech101-subset,pf-willow-jpg,fixtures} carried here.
# usage: bash training/gpu_run.sh <train seconds per config> <configs...>
set -o pipefail
export PYTHONUNBUFFERED=1
T=${1:-300}; shift
CFGS=${*:-A B C}
D=/tmp/mm
mkdir -p $D/models $D/runs
[ -d $D/models/resnet_v2_101 ] || python3 training/pack_weights.py unpack .devdata/c1/trunk.pack $D/models/resnet_v2_101
export MMNET_MODELS_DIR=$D/models MMNET_HEAD_DIR=$PWD/models/mmnet_head_v0
export MMNET_WILLOW_DIR=.devdata/c2/pf-willow-jpg MMNET_CALTECH_DIR=.devdata/c2/caltech101-subset
export MMNET_FIXTURES_DIR=.devdata/c2/fixtures
L=$OUT/gpu_log.txt
{ date -u; nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__)"; } 2>&1 | tee -a $L
(timeout 60 python3 training/check_fixtures.py 2>&1 | tail -4) | tee -a $L
COMMON="--device cuda --time-budget $T --eval-every-s 30 --threads 4"
declare -A C
C[A]="--round-steps 1000000 --w-distill 1 --lr 1e-4"                      # fixed teacher: v0 head fused with raw
C[B]="--round-steps 250 --w-distill 1 --lr 1e-4"                          # rounds: teacher = current head (fused)
C[C]="--raw-rounds 1 --round-steps 250 --w-distill 1 --lr 1e-4 --w-syn 0.5" # round 0: raw mutual NN, then head rounds
C[D]="--round-steps 250 --w-distill 2 --lr 2e-4 --batch-syn 2 --batch-sem 14"
for c in $CFGS; do
  echo "config $c: python3 training/train.py $COMMON ${C[$c]} --out $D/runs/$c" | tee -a $L
  python3 training/train.py $COMMON ${C[$c]} --seed 1 --out $D/runs/$c > $D/runs/$c.log 2>&1 &
done
wait
for c in $CFGS; do
  echo "== $c" | tee -a $L
  grep -E "^(step 1 |step [0-9]*00 |new best|done|Traceback|.*Error)" $D/runs/$c.log | tail -20 | tee -a $L
  cat $D/runs/$c.log >> $OUT/train_logs.txt
  cp $D/runs/$c/head_best_part1.npz $OUT/${c}_part1.npz 2>/dev/null
done
tar -C $D/runs -cf $OUT/rest.tar $(cd $D/runs && ls -d */head_best_part2.npz */summary.json 2>/dev/null)
python3 - <<'PY' | tee -a $L
import json, glob
for f in sorted(glob.glob('/tmp/mm/runs/*/summary.json')):
    s = json.load(open(f))
    r = s.get('best_res') or {}
    print(f.split('/')[-2], 'steps', s['steps'], 'best step', s['best_step'], 'score', s['best_score'],
          ' '.join('%s %.2f/%.2f/%.2f' % (k, *v) for k, v in sorted(r.items())))
PY
ls -la $OUT
