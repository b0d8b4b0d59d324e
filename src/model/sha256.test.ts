import { describe, expect, it } from 'vitest';
import { sha256, sha256Hex } from './sha256';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bytes = (s: string) => new TextEncoder().encode(s);

describe('sha256 fallback', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ])('hashes %j like FIPS 180-4', (text, digest) => {
    expect(hex(sha256(bytes(text)))).toBe(digest);
  });

  it('agrees with WebCrypto on a multi-block buffer', async () => {
    const data = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) & 255);
    expect(hex(sha256(data))).toBe(await sha256Hex(data.buffer));
  });
});
