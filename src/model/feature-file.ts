/**
 * Features as a file: an example's encode computed at build time (`npm run models`) and shipped beside the
 * model, so the example answers clicks before the weights have arrived. Only a started backend is needed to
 * read one back. The layout is generic over `FeatureMaps`: every tensor it holds is stored, however the maps
 * are nested, so maps added later travel without a format change.
 *
 * Layout: a container "MMNF" (container.ts), then per stored tensor its float32 scales (one per channel, the
 * last axis) followed by its int8 values, padded to 4.
 */
import * as tf from '@tensorflow/tfjs-core';
import { padded, readContainer, writeContainer } from './container';
import { MMNetError } from './errors';
import { preprocess, readImage } from './image';
import type { FlatMap, FeatureMaps } from './matching';
import { Features } from './features';
import type { ImageInput } from './types';

const FORMAT = { magic: 'MMNF', version: 1, what: 'features file' };
const INT8_MAX = 127;

/** A stored tensor in the header's skeleton: `flat` is a `FlatMap` stored once, as its `cells`. */
type Slot = { $tensor: number } | { $flat: number };

interface Header {
  /** The encoded image's size (`Features.width`, `height`). */
  width: number;
  height: number;
  /** `FeatureMaps` with every tensor replaced by its slot. */
  maps: unknown;
  shapes: number[][];
}

const isFlatMap = (value: object): value is FlatMap =>
  'cells' in value && 'channels' in value && value.cells instanceof tf.Tensor && value.channels instanceof tf.Tensor;

/** The maps' JSON skeleton and their tensors in slot order. */
function skeletonOf(maps: FeatureMaps): { skeleton: unknown; tensors: tf.Tensor[]; flat: boolean[] } {
  const tensors: tf.Tensor[] = [];
  const flat: boolean[] = [];
  const slot = (tensor: tf.Tensor, isFlat: boolean): Slot => {
    tensors.push(tensor);
    flat.push(isFlat);
    return isFlat ? { $flat: tensors.length - 1 } : { $tensor: tensors.length - 1 };
  };
  const walk = (value: unknown): unknown => {
    if (value instanceof tf.Tensor) return slot(value, false);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      if (isFlatMap(value)) return slot(value.cells, true);
      return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, walk(v)]));
    }
    return value;
  };
  return { skeleton: walk(maps), tensors, flat };
}

/** int8 per channel (the last axis): scale_c = max |x_c| / 127. */
function quantize(values: Float32Array, channels: number): { scales: Float32Array; codes: Int8Array } {
  const scales = new Float32Array(channels);
  for (let k = 0; k < values.length; k++) scales[k % channels] = Math.max(scales[k % channels], Math.abs(values[k]));
  for (let c = 0; c < channels; c++) scales[c] = scales[c] / INT8_MAX || 1;
  const codes = Int8Array.from(values, (v, k) => Math.round(v / scales[k % channels]));
  return { scales, codes };
}

const lastAxis = (shape: number[]) => shape[shape.length - 1];
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const storedBytes = (shape: number[]) => 4 * lastAxis(shape) + padded(sizeOf(shape));
const bodyBytes = ({ shapes }: Header) => shapes.reduce((sum, shape) => sum + storedBytes(shape), 0);

/** The file's bytes (reads the tensors back: a build-time step, not for a hot path). */
export async function serializeFeatures(features: Features): Promise<Uint8Array> {
  features.assertAlive();
  const { skeleton, tensors } = skeletonOf(features.maps);
  const header: Header = { width: features.width, height: features.height, maps: skeleton, shapes: tensors.map((t) => t.shape) };
  const { bytes: out, bodyStart } = writeContainer(FORMAT, header, bodyBytes(header));
  let offset = bodyStart;
  for (const tensor of tensors) {
    const { scales, codes } = quantize((await tensor.data()) as Float32Array, lastAxis(tensor.shape));
    out.set(new Uint8Array(scales.buffer), offset);
    out.set(new Uint8Array(codes.buffer), offset + scales.byteLength);
    offset += storedBytes(tensor.shape);
  }
  return out;
}

/**
 * Features from a file's bytes, on the current backend. `image`: the photo they were computed from, kept as
 * the network input so that what needs the weights later (flip) can still be done; it must have the size
 * the file names.
 */
export async function readFeatures(bytes: ArrayBuffer | Uint8Array, image: ImageInput): Promise<Features> {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const { header, bodyStart, view } = readContainer(data, FORMAT, bodyBytes);
  const { pixels, size } = await readImage(image);
  const input = preprocess(pixels);
  pixels.dispose();
  if (size.width !== header.width || size.height !== header.height) {
    input.dispose();
    throw new MMNetError(
      'bad-argument',
      `these features are of a ${header.width}×${header.height} image, not ${size.width}×${size.height}`,
    );
  }
  const tensors: tf.Tensor[] = [];
  let offset = bodyStart;
  for (const shape of header.shapes) {
    const channels = lastAxis(shape);
    // Read through a DataView: the file's bytes need not be aligned for a float32 view.
    const scales = Float32Array.from({ length: channels }, (_, c) => view.getFloat32(offset + 4 * c, true));
    const codes = new Int8Array(data.buffer, data.byteOffset + offset + 4 * channels, sizeOf(shape));
    tensors.push(
      tf.tensor(
        Float32Array.from(codes, (q, k) => q * scales[k % channels]),
        shape,
        'float32',
      ),
    );
    offset += storedBytes(shape);
  }
  const maps = JSON.parse(JSON.stringify(header.maps), (_, value: unknown) => {
    if (value && typeof value === 'object' && '$tensor' in value) return tensors[value.$tensor as number];
    if (value && typeof value === 'object' && '$flat' in value) {
      const cells = tensors[value.$flat as number] as tf.Tensor2D;
      return { cells, channels: tf.transpose(cells) };
    }
    return value;
  }) as FeatureMaps;
  return new Features(maps, input, header.width, header.height);
}
