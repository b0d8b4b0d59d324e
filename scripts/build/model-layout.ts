import {
  ATTENTION_CHANNELS,
  BLOCK_CHANNELS,
  BLOCK_UNITS,
  FEATURE_CHANNELS,
  MSBLOCK_CHANNELS,
  SCALES,
  TAPS,
} from '../../src/model/constants';

/** One tensor the runtime needs: its name in model.json, its source file, shape and layout change. */
export interface TensorSpec {
  name: string;
  file: string;
  /** Shape in the source `.npy`. */
  shape: number[];
  /** Transpose applied for tfjs (HWIO filters), if any. */
  perm?: number[];
}

const OHWI_TO_HWIO = [1, 2, 3, 0];
/** PyTorch conv `out,in,kh,kw` → HWIO; transposed conv `in,out,kh,kw` → `kh,kw,out,in` (same permutation). */
const TORCH_TO_TFJS = [2, 3, 1, 0];

/** The 248 trunk tensors (SPEC §2), named as in the source without the `resnet_v2_101_` prefix. */
export function trunkTensors(): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const conv = (name: string, out: number, k: number, cin: number) => {
    specs.push({ name: `${name}_weights`, file: `resnet_v2_101_${name}_weights.npy`, shape: [out, k, k, cin], perm: OHWI_TO_HWIO });
    specs.push({ name: `${name}_Conv2D_bias`, file: `resnet_v2_101_${name}_Conv2D_bias.npy`, shape: [out] });
  };
  conv('conv1', 64, 7, 3);
  let channels = 64;
  BLOCK_UNITS.forEach((units, b) => {
    const out = BLOCK_CHANNELS[b];
    const depth = out / 4;
    for (let u = 1; u <= units; u++) {
      const unit = `block${b + 1}_unit_${u}_bottleneck_v2`;
      for (const p of ['preact_FusedBatchNorm_mul_0_param', 'preact_FusedBatchNorm_add_param']) {
        specs.push({ name: `${unit}_${p}`, file: `resnet_v2_101_${unit}_${p}.npy`, shape: [channels] });
      }
      if (u === 1) conv(`${unit}_shortcut`, out, 1, channels);
      conv(`${unit}_conv1`, depth, 1, channels);
      conv(`${unit}_conv2`, depth, 3, depth);
      conv(`${unit}_conv3`, out, 1, depth);
      channels = out;
    }
  });
  return specs;
}

const tapChannels = (tap: string) => BLOCK_CHANNELS[Number(/^block(\d)/.exec(tap)![1]) - 1];

/** The head's tensors (SPEC §3), named as in PyTorch. */
export function headTensors(): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const conv = (name: string, out: number, cin: number, k: number, bias = true) => {
    specs.push({ name: `${name}.weight`, file: `${name}.weight.npy`, shape: [out, cin, k, k], perm: TORCH_TO_TFJS });
    if (bias) specs.push({ name: `${name}.bias`, file: `${name}.bias.npy`, shape: [out] });
  };
  for (const tap of TAPS) {
    conv(`ms.${tap}.conv`, MSBLOCK_CHANNELS, tapChannels(tap), 3);
    for (const k of [1, 2, 3]) conv(`ms.${tap}.conv${k}`, MSBLOCK_CHANNELS, MSBLOCK_CHANNELS, 3);
    conv(`down.${tap}`, FEATURE_CHANNELS, MSBLOCK_CHANNELS, 1);
  }
  for (const { index: s } of SCALES) {
    for (const part of ['theta', 'phi', 'g']) conv(`attn.${s}.${part}`, ATTENTION_CHANNELS, FEATURE_CHANNELS, 1);
    conv(`attn.${s}.back`, FEATURE_CHANNELS, ATTENTION_CHANNELS, 1);
    if (s > 1) conv(`up.${s}`, FEATURE_CHANNELS, FEATURE_CHANNELS, 4, false); // in = out = 21
    if (s < 4) conv(`fuse.${s}`, FEATURE_CHANNELS, 2 * FEATURE_CHANNELS, 3);
  }
  return specs;
}
