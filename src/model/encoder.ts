import * as tf from '@tensorflow/tfjs-core';
import { BLOCK_UNITS, HYPERPIXEL_STRIDE, RAW_TAP, TAPS } from './constants';
import { ScaleAccumulator } from './head';
import { MMNetError } from './errors';
import { concatHyperpixels, headTapScale, isHyperpixelTap, tapOnGrid } from './hyperpixels';
import { l2Normalize } from './unit-vectors';
import { gridOf, type FeatureMaps, type FlatMap } from './matching';
import { trunkStepWeights, trunkTaps } from './trunk';
import type { WeightMap } from './weights';

const TRUNK_UNITS = BLOCK_UNITS.reduce((a, b) => a + b, 0);

/** [1, h, w, C] → both flat layouts. */
function flatten(x: tf.Tensor4D): FlatMap {
  const cells = tf.reshape(x, [x.shape[1] * x.shape[2], x.shape[3]]) as tf.Tensor2D;
  return { cells, channels: tf.transpose(cells) };
}

export interface EncodeOptions {
  /** The input is a horizontally flipped image, so the maps are flipped back to line up with the original. */
  mirrored?: boolean;
  onProgress?: (fraction: number) => void;
  /** Also build hyperpixels (`FeatureMaps.hyper`) from these taps (src/model/hyperpixels.ts). */
  hyperTaps?: readonly string[];
}

/**
 * The whole network on a preprocessed 1×224×320×3 input: trunk, head, and the normalised trunk
 * tap of the fused prior, all from one trunk pass; with `hyperTaps`, the hyperpixels too.
 */
export function encodeMaps(weights: WeightMap, input: tf.Tensor4D, options: EncodeOptions = {}): FeatureMaps {
  return runAtOnce(encodeMapsInSteps(weights, input, options));
}

/**
 * `encodeMaps` a trunk unit at a time: it yields after each unit (the head's share of that unit done too),
 * so that a caller can let other work run in between (`runInSteps`). Abandoned half-way (`return()`), it
 * frees what it made.
 */
export function* encodeMapsInSteps(
  weights: WeightMap,
  input: tf.Tensor4D,
  { mirrored = false, onProgress, hyperTaps }: EncodeOptions = {},
): Generator<void, FeatureMaps> {
  const { maps, taps } = yield* encodeTapsInSteps(weights, input, hyperTaps ?? [], { mirrored, onProgress });
  return withHyperpixels(maps, taps, hyperTaps !== undefined, mirrored);
}

/** A stepwise encode run to its end at once. */
function runAtOnce<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * A stepwise encode run with `between()` awaited after each step; a throw from it abandons the encode, whose
 * tensors are then freed.
 */
export async function runInSteps<T>(steps: Generator<void, T>, between: () => Promise<void>): Promise<T> {
  let step = steps.next();
  try {
    while (!step.done) {
      await between();
      step = steps.next();
    }
    return step.value;
  } finally {
    // The value is never read: `return()` only runs the encode's clean-up.
    if (!step.done) steps.return(undefined as T);
  }
}

/** `maps` with the hyperpixels of `taps` (`encodeTaps`' taps) when `hyper`; disposes the taps. */
function withHyperpixels(maps: FeatureMaps, taps: tf.Tensor4D[], hyper: boolean, mirrored: boolean): FeatureMaps {
  if (!hyper) return maps;
  const hyperMap = tf.tidy(() => flatten(unmirror(concatHyperpixels(taps), mirrored)));
  tf.dispose(taps);
  return { ...maps, hyper: hyperMap };
}

const unmirror = (x: tf.Tensor4D, mirrored: boolean) => (mirrored ? tf.reverse(x, 2) : x);

function checkTaps(tapNames: readonly string[]) {
  const unknown = tapNames.filter((name) => !isHyperpixelTap(name));
  if (unknown.length > 0) throw new MMNetError('bad-argument', `no such tap: ${unknown.join(', ')}`);
}

/**
 * What one trunk pass leaves besides the head's input: the fused prior's tap, normalised, and the named trunk
 * taps laid on the hyperpixel grid; each tap also goes to `toHead`. Counts the units for `onProgress`.
 */
class TrunkPass {
  raw?: tf.Tensor4D;
  readonly kept = new Map<string, tf.Tensor4D>();
  units = 0;

  constructor(
    private readonly tapNames: readonly string[],
    private readonly toHead: (name: string, tap: tf.Tensor4D) => void,
    private readonly onProgress?: (fraction: number) => void,
  ) {}

  take(name: string, tap: tf.Tensor4D): void {
    this.units++;
    this.onProgress?.(this.units / TRUNK_UNITS);
    this.toHead(name, tap);
    if (name === RAW_TAP) this.raw = l2Normalize(tap);
    if (this.tapNames.includes(name)) this.kept.set(name, tapOnGrid(tap, gridOf(HYPERPIXEL_STRIDE)));
  }

  dispose(): void {
    tf.dispose([this.raw, ...this.kept.values()].filter((t) => t !== undefined));
  }
}

/**
 * `encodeMaps` without hyperpixels, plus the named taps (trunk units or head maps, `headTapName`) each laid on
 * the hyperpixel grid and normalised (`tapOnGrid`), in the order named, still mirrored when the input is.
 */
export function encodeTaps(
  weights: WeightMap,
  input: tf.Tensor4D,
  tapNames: readonly string[],
  options: Omit<EncodeOptions, 'hyperTaps'> = {},
): { maps: FeatureMaps; taps: tf.Tensor4D[] } {
  return runAtOnce(encodeTapsInSteps(weights, input, tapNames, options));
}

/** `encodeTaps` a trunk unit at a time (`encodeMapsInSteps`). */
function* encodeTapsInSteps(
  weights: WeightMap,
  input: tf.Tensor4D,
  tapNames: readonly string[],
  { mirrored = false, onProgress }: Omit<EncodeOptions, 'hyperTaps'> = {},
): Generator<void, { maps: FeatureMaps; taps: tf.Tensor4D[] }> {
  checkTaps(tapNames);
  const accumulator = new ScaleAccumulator(weights);
  const pass = new TrunkPass(tapNames, (name, tap) => accumulator.add(name, tap), onProgress);
  const x = mirrored ? tf.reverse(input, 2) : input;
  let passed = false;
  try {
    for (const [name, tap] of trunkTaps(weights, x)) {
      pass.take(name, tap);
      yield;
    }
    passed = true;
  } finally {
    if (x !== input) x.dispose();
    // A throw, or the encode abandoned between units.
    if (!passed) {
      accumulator.dispose();
      pass.dispose();
    }
  }
  return finishHead(accumulator, pass, tapNames, mirrored);
}

/** The head's last steps (attention, top-down pathway) and the flat maps; takes the pass's tensors. */
function finishHead(
  accumulator: ScaleAccumulator,
  pass: TrunkPass,
  tapNames: readonly string[],
  mirrored: boolean,
): { maps: FeatureMaps; taps: tf.Tensor4D[] } {
  const g = accumulator.finish();
  for (const name of tapNames) {
    const scale = headTapScale(name);
    if (scale) pass.kept.set(name, tapOnGrid(g[scale - 1], gridOf(HYPERPIXEL_STRIDE)));
  }
  const flat = (x: tf.Tensor4D): FlatMap => {
    const map = tf.tidy(() => flatten(unmirror(x, mirrored)));
    x.dispose();
    return map;
  };
  return { maps: { head: g.map(flat), raw: flat(pass.raw!) }, taps: tapNames.map((name) => pass.kept.get(name)!) };
}

/**
 * An image's trunk pass kept for the head (`encodeTrunk`): every tap the head reads, whole, in the trunk's
 * order (what `encodeMaps` reduces on the fly, kept because the head's weights are not there yet).
 */
export interface TrunkMaps {
  readonly headTaps: readonly (readonly [name: string, tap: tf.Tensor4D])[];
  /** @internal */ readonly pass: TrunkPass;
  readonly hyperTaps?: readonly string[];
}

/**
 * The trunk's half of `encodeMaps` (not mirrored), which needs only the trunk's weights: the head runs later,
 * on what it keeps (`encodeHead`). Before each unit, `weightsFor` waits for its tensors (`weights` may still
 * be filling up; a throw stops the pass, leaving nothing behind). Holds about 49 MB of taps per image until
 * the head has run.
 */
export async function encodeTrunk(
  weights: WeightMap,
  input: tf.Tensor4D,
  { onProgress, hyperTaps, weightsFor }: Omit<EncodeOptions, 'mirrored'> & { weightsFor: (names: readonly string[]) => Promise<void> },
): Promise<TrunkMaps> {
  checkTaps(hyperTaps ?? []);
  const headTaps: [string, tf.Tensor4D][] = [];
  const pass = new TrunkPass(
    hyperTaps ?? [],
    (name, tap) => void (TAPS.includes(name) && headTaps.push([name, tf.clone(tap)])),
    onProgress,
  );
  const maps = { headTaps, pass, hyperTaps };
  const steps = trunkStepWeights();
  try {
    await weightsFor(steps[0]);
    for (const [name, tap] of trunkTaps(weights, input)) {
      pass.take(name, tap);
      const next = steps[pass.units];
      if (next) await weightsFor(next);
    }
  } catch (e) {
    disposeTrunk(maps);
    throw e;
  }
  return maps;
}

/** The head on a trunk pass (`encodeTrunk`): the maps `encodeMaps` makes of the same input. Disposes the trunk's tensors. */
export function encodeHead(weights: WeightMap, trunk: TrunkMaps): FeatureMaps {
  const accumulator = new ScaleAccumulator(weights);
  try {
    for (const [name, tap] of trunk.headTaps) accumulator.add(name, tap);
  } catch (e) {
    accumulator.dispose();
    trunk.pass.dispose();
    throw e;
  } finally {
    tf.dispose(trunk.headTaps.map(([, tap]) => tap));
  }
  const { maps, taps } = finishHead(accumulator, trunk.pass, trunk.hyperTaps ?? [], false);
  return withHyperpixels(maps, taps, trunk.hyperTaps !== undefined, false);
}

export function disposeTrunk({ headTaps, pass }: TrunkMaps): void {
  tf.dispose(headTaps.map(([, tap]) => tap));
  pass.dispose();
}
