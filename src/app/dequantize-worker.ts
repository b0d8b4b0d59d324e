/**
 * The helper that decodes the weights while the model worker builds their operators (dequantizer.ts): each
 * message a tensor's stored bytes and the view of the wasm heap its values go to, each answer its id.
 */
import { dequantize } from '../model/quantization';
import type { DequantizeJob } from './dequantizer';

self.onmessage = ({ data: { id, bytes, shape, storage, out } }: MessageEvent<DequantizeJob>) => {
  try {
    dequantize(bytes, shape, storage, out);
    self.postMessage({ id });
  } catch (e) {
    self.postMessage({ id, error: String(e) });
  }
};
