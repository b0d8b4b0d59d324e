/**
 * The single source of truth for the network's geometry (SPEC.md §1–4), shared by the runtime,
 * the model build, the CLIs, the app and the tests.
 */

/** Network input, rows × columns (SPEC §1). Any multiple of 32 works; this is the reference size. */
export const INPUT_HEIGHT = 224;
export const INPUT_WIDTH = 320;

/** Matching feature channels F of the head. */
export const FEATURE_CHANNELS = 21;

/** Units per trunk block (ResNet-101 v2, blocks 1–3); the last unit of each block has stride 2. */
export const BLOCK_UNITS = [3, 4, 23] as const;
/** Output channels of each block's units. */
export const BLOCK_CHANNELS = [256, 512, 1024] as const;

export type ScaleIndex = 1 | 2 | 3 | 4;
export const SCALE_INDICES: readonly ScaleIndex[] = [1, 2, 3, 4];

export interface ScaleSpec {
  readonly index: ScaleIndex;
  /** Input pixels per feature cell. */
  readonly stride: number;
  /** Trunk taps (`block{b}_unit{u}`) whose MSBlock outputs are summed into this scale. */
  readonly taps: readonly string[];
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export const SCALES: readonly ScaleSpec[] = [
  { index: 1, stride: 4, taps: ['block1_unit1', 'block1_unit2'] },
  { index: 2, stride: 8, taps: ['block1_unit3', 'block2_unit1', 'block2_unit2', 'block2_unit3'] },
  { index: 3, stride: 16, taps: ['block2_unit4', ...range(1, 22).map((u) => `block3_unit${u}`)] },
  { index: 4, stride: 32, taps: ['block3_unit23'] },
];

export const scaleSpec = (s: ScaleIndex): ScaleSpec => SCALES[s - 1];

/** Every trunk tap the head reads, in trunk order. */
export const TAPS: readonly string[] = SCALES.flatMap((s) => s.taps);

/** The trunk tap of the training-free baseline and of the fused prior (SPEC §4b). */
export const RAW_TAP = 'block3_unit22';
export const RAW_STRIDE = 16;
/** Hyperpixels live on the consensus's grid, the trunk prior's (src/model/hyperpixels.ts). */
export const HYPERPIXEL_STRIDE = RAW_STRIDE;

/** Fused prediction: L_s = log_softmax(row_s) + λ · up_s(log_softmax(raw / τ)) (SPEC §4b). */
export const FUSED_LAMBDA = 1;
export const FUSED_TAU = 0.05;

/** Scales the fused mode is defined for (its prior lives on the stride-16 grid). */
export const FUSED_SCALES: readonly ScaleIndex[] = [1, 2, 3];

/** The scale used when a caller does not name one (best on PF-WILLOW). */
export const DEFAULT_SCALE: ScaleIndex = 3;

/** Local attention (intra-scale enhancement) inner channels. */
export const ATTENTION_CHANNELS = 10;
/** MSBlock inner channels and dilations. */
export const MSBLOCK_CHANNELS = 32;
export const MSBLOCK_DILATIONS = [4, 8, 12] as const;

/** tfjs backends, fastest first: the default order `loadMMNet` tries. */
export const BACKEND_ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/** Folder of the built model under the site's `models/`. */
export const MODEL_NAME = 'mmnet-r101v2';
