import { describe, expect, it } from 'vitest';
import { readImageSize } from './imageSize';

const bytes = (...parts: (number[] | string)[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

describe('readImageSize', () => {
  it('reads PNG, GIF, JPEG and WebP headers', () => {
    const png = bytes([0x89], 'PNG', [13, 10, 26, 10, 0, 0, 0, 13], 'IHDR', [0, 0, 0x27, 0x10, 0, 0, 0x17, 0x70]);
    expect(readImageSize(png)).toEqual({ width: 10000, height: 6000 });
    expect(readImageSize(bytes('GIF89a', [0x40, 1, 0xf0, 0]))).toEqual({ width: 320, height: 240 });
    // SOI, an APP0 segment to skip, then SOF0 with height 480 and width 640.
    const jpeg = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 1, 0xe0, 2, 0x80, 3, 0, 0, 0]);
    expect(readImageSize(jpeg)).toEqual({ width: 640, height: 480 });
    const webp = bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8X', [10, 0, 0, 0, 0, 0, 0, 0, 0x3f, 0x1f, 0, 0xdf, 0x0f, 0]);
    expect(readImageSize(webp)).toEqual({ width: 8000, height: 4064 });
  });

  it('returns null for what it does not know', () => {
    expect(readImageSize(bytes('not an image at all'))).toBeNull();
    expect(readImageSize(new Uint8Array(0))).toBeNull();
  });
});
