/**
 * The layout of the files the library writes for a site to ship (features, a pair's consensus): a 4-letter
 * magic, u32 version, u32 header bytes, the JSON header, zero padding to 4 bytes, then a body the header
 * describes. All numbers little-endian.
 */
import { MMNetError } from './errors';

const PREAMBLE_BYTES = 12;

export const padded = (bytes: number) => Math.ceil(bytes / 4) * 4;

/** Which kind of file: its magic and version, and its name in errors. */
export interface ContainerFormat {
  magic: string;
  version: number;
  what: string;
}

/** A file of `bodyBytes` after the header, zero-filled: the caller writes its body from `bodyStart`. */
export function writeContainer(
  { magic, version }: ContainerFormat,
  header: object,
  bodyBytes: number,
): { bytes: Uint8Array; bodyStart: number } {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bodyStart = padded(PREAMBLE_BYTES + json.byteLength);
  const bytes = new Uint8Array(bodyStart + bodyBytes);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(magic), 0);
  view.setUint32(4, version, true);
  view.setUint32(8, json.byteLength, true);
  bytes.set(json, PREAMBLE_BYTES);
  return { bytes, bodyStart };
}

/**
 * The header and where the body starts. `bodyBytes` (from the header) must account for the rest of the file
 * exactly, so a truncated download is refused rather than misread.
 */
export function readContainer<Header>(
  data: Uint8Array,
  { magic, version, what }: ContainerFormat,
  bodyBytes: (header: Header) => number,
): { header: Header; bodyStart: number; view: DataView } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength < PREAMBLE_BYTES || new TextDecoder().decode(data.subarray(0, 4)) !== magic) {
    throw new MMNetError('bad-argument', `not a ${what}`);
  }
  const found = view.getUint32(4, true);
  if (found !== version) throw new MMNetError('bad-argument', `${what} version ${found}, this code reads ${version}`);
  const headerBytes = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(data.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes))) as Header;
  const bodyStart = padded(PREAMBLE_BYTES + headerBytes);
  const expected = bodyStart + bodyBytes(header);
  if (expected !== data.byteLength)
    throw new MMNetError('bad-argument', `${what} of ${data.byteLength} bytes, its header says ${expected}`);
  return { header, bodyStart, view };
}
