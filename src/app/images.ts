/** Turns a dropped, picked or pasted file into an oriented bitmap the panes can show and the worker encode. */
import { readImageSize } from './imageSize';

/** Larger images are refused: decoding one would take hundreds of megabytes. */
const MAX_PIXELS = 50_000_000;
/** Larger images are shown and encoded from a downscaled copy (the network sees 320 × 224 anyway). */
const MAX_SIDE = 2048;

export interface DecodedImage {
  name: string;
  /** Original size after EXIF orientation. */
  width: number;
  height: number;
  bitmap: ImageBitmap;
}

export class ImageError extends Error {
  constructor(
    message: string,
    /** Refused for its size (the message names it), not for being unreadable. */
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

const megapixels = (width: number, height: number) => `${((width * height) / 1e6).toFixed(1)} MP`;

function refuseIfHuge(name: string, width: number, height: number) {
  if (width * height > MAX_PIXELS) {
    throw new ImageError(`“${name}” is ${width} × ${height} (${megapixels(width, height)}); images over 50 MP are refused.`, true);
  }
}

export async function decodeImage(file: Blob, name: string): Promise<DecodedImage> {
  // The header is enough to refuse a huge image before decoding it (EXIF can push the frame header far in).
  const size = readImageSize(new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer()));
  if (size) refuseIfHuge(name, size.width, size.height);

  // Decoding happens off the main thread; `from-image` applies the EXIF orientation.
  const bitmap = await decode(file, name);
  const { width, height } = bitmap;
  const factor = MAX_SIDE / Math.max(width, height);
  if (factor >= 1 && width * height <= MAX_PIXELS) return { name, width, height, bitmap };
  bitmap.close();
  refuseIfHuge(name, width, height);
  // Decoding again straight to the small size keeps the main thread free; resizing the full bitmap would not.
  const small = await decode(file, name, { width: Math.round(width * factor), height: Math.round(height * factor) });
  return { name, width, height, bitmap: small };
}

async function decode(file: Blob, name: string, size?: { width: number; height: number }): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(file, {
      imageOrientation: 'from-image',
      ...(size && { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' }),
    });
  } catch {
    throw new ImageError(`“${name}” is not an image this browser can decode (or it is corrupted).`);
  }
}
