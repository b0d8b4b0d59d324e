import * as tf from '@tensorflow/tfjs-core';
import { INPUT_HEIGHT, INPUT_WIDTH } from './constants';
import { MMNetError } from './errors';
import type { ImageInput, Point } from './types';

export interface Size {
  width: number;
  height: number;
}

/** Original-image point → network-input point (continuous coordinates, SPEC §1). */
export const toInput = (p: Point, original: Size): Point => ({
  x: (p.x * INPUT_WIDTH) / original.width,
  y: (p.y * INPUT_HEIGHT) / original.height,
});

/** Network-input point → original-image point. */
export const toOriginal = (p: Point, original: Size): Point => ({
  x: (p.x * original.width) / INPUT_WIDTH,
  y: (p.y * original.height) / INPUT_HEIGHT,
});

type PixelBuffer = { data: Uint8Array | Uint8ClampedArray; width: number; height: number };

const isPixelBuffer = (image: ImageInput): image is PixelBuffer =>
  'data' in image && (image.data instanceof Uint8Array || image.data instanceof Uint8ClampedArray);

/**
 * Reads any accepted image into an H×W×3 float32 tensor of 0..255 values, and checks it: a
 * zero-size image, a wrong channel count or a NaN is a `bad-image` error, never a silent garbage match.
 */
export async function readImage(image: ImageInput): Promise<{ pixels: tf.Tensor3D; size: Size }> {
  const pixels = image instanceof tf.Tensor ? checkedTensor(image) : fromPixelSource(image);
  const [height, width] = pixels.shape;
  const hasNaN = tf.tidy(() => tf.any(tf.isNaN(pixels)));
  const nan = (await hasNaN.data())[0];
  hasNaN.dispose();
  if (nan) {
    pixels.dispose();
    throw new MMNetError('bad-image', 'the image contains NaN values');
  }
  return { pixels, size: { width, height } };
}

/** A cast copy, so the caller's tensor is never disposed by us. */
function checkedTensor(t: tf.Tensor): tf.Tensor3D {
  if (t.rank !== 3 || t.shape[2] !== 3) {
    throw new MMNetError('bad-image', `expected an H×W×3 RGB tensor, got shape [${t.shape.join(', ')}]`);
  }
  const [height, width] = t.shape as [number, number, number];
  checkSize(width, height);
  return tf.cast(t as tf.Tensor3D, 'float32');
}

function fromPixelSource(image: Exclude<ImageInput, tf.Tensor3D>): tf.Tensor3D {
  if (isPixelBuffer(image)) {
    const { data, width, height } = image;
    checkSize(width, height);
    const channels = data.length / (width * height);
    if (channels !== 3 && channels !== 4) {
      throw new MMNetError('bad-image', `pixel buffer of ${data.length} bytes is neither RGB nor RGBA for ${width}×${height}`);
    }
    return tf.tidy(() => {
      const t = tf.tensor3d(Uint8Array.from(data), [height, width, channels], 'int32');
      return tf.cast(channels === 4 ? tf.slice(t, [0, 0, 0], [height, width, 3]) : t, 'float32');
    });
  }
  const { width, height } = sourceSize(image);
  checkSize(width, height);
  return tf.tidy(() => tf.cast(tf.browser.fromPixels(image as Parameters<typeof tf.browser.fromPixels>[0], 3), 'float32'));
}

function sourceSize(image: Exclude<ImageInput, tf.Tensor3D | PixelBuffer>): Size {
  if ('naturalWidth' in image) return { width: image.naturalWidth, height: image.naturalHeight };
  if ('videoWidth' in image) return { width: image.videoWidth, height: image.videoHeight };
  return { width: image.width, height: image.height };
}

function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0)) throw new MMNetError('bad-image', `the image is empty (${width}×${height})`);
}

/** An image as the network's input (`preprocess` of `readImage`), and its original size. */
export async function networkInput(image: ImageInput): Promise<{ input: tf.Tensor4D; size: Size }> {
  const { pixels, size } = await readImage(image);
  const input = preprocess(pixels);
  pixels.dispose();
  return { input, size };
}

/** H×W×3 (0..255) → 1×224×320×3 network input, bilinear with half-pixel centres, scaled to [-1, 1]. */
export function preprocess(pixels: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const resized = tf.image.resizeBilinear(pixels, [INPUT_HEIGHT, INPUT_WIDTH], false, true);
    return tf.expandDims(tf.div(tf.sub(resized, 127.5), 127.5), 0) as tf.Tensor4D;
  });
}
