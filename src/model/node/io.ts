/** Node glue for the library: file-system fetch, fixture and PNG reading, the wasm backend. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pathToFileURL, fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs-core';
import { loadMMNet, type LoadOptions, type MMNet } from '..';
import { INPUT_HEIGHT, INPUT_WIDTH } from '../constants';

/** `fetch` for `file://` URLs (tfjs's loaders and Node's fetch have no file: support). */
export async function fileFetch(url: string): Promise<Response> {
  try {
    return new Response(await readFile(fileURLToPath(url)));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return new Response(null, { status: code === 'ENOENT' ? 404 : 500, statusText: String(code) });
  }
}

/** The URL of a model folder on disk. */
export const modelUrl = (dir: string) => `${pathToFileURL(dir).href}/`;

/** Loads a built model in Node on the wasm backend (or `cpu`). */
export const loadNodeModel = (dir: string, options: LoadOptions = {}): Promise<MMNet> =>
  loadMMNet(modelUrl(dir), { backend: 'wasm', fetch: fileFetch, ...options });

/** A fixture `.rgb` (uint8 H×W×3, already 224×320) as a tensor of 0..255 values. */
export function readRgb(path: string, height = INPUT_HEIGHT, width = INPUT_WIDTH): tf.Tensor3D {
  const bytes = readFileSync(path);
  if (bytes.length !== height * width * 3) throw new Error(`${path}: ${bytes.length} bytes, expected ${height}×${width}×3`);
  return tf.tensor3d(new Uint8Array(bytes), [height, width, 3], 'int32');
}

/** A PNG file as RGBA pixels (what `encode` accepts as a pixel buffer). */
export function readPng(path: string): { data: Uint8Array; width: number; height: number } {
  const png = PNG.sync.read(readFileSync(path));
  return { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
}

/** A JPEG file as RGBA pixels. */
export function readJpeg(path: string): { data: Uint8Array; width: number; height: number } {
  const { data, width, height } = jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: true });
  return { data, width, height };
}
