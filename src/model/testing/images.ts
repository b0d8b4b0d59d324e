/** Synthetic test images. */
import * as tf from '@tensorflow/tfjs-core';

/** A textured 96×128 image; `shift` moves the texture right by that many pixels, so matches between two are predictable. */
export const texturedImage = (shift = 0) =>
  tf.tidy(() => {
    const [h, w] = [96, 128];
    const values = Array.from({ length: h * w * 3 }, (_, k) => {
      const c = k % 3;
      const x = Math.floor(k / 3) % w;
      const y = Math.floor(k / 3 / w);
      return (Math.sin((x - shift) * 0.3 + c) * Math.cos(y * 0.2 - c) * 0.5 + 0.5) * 255;
    });
    return tf.tensor3d(values, [h, w, 3]);
  });
