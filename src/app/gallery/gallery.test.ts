import { describe, expect, it } from 'vitest';
import { admit, NAME_TAIL, splitName, staleDigests, timeLeft, type GalleryState } from './gallery';

describe('admit', () => {
  it('takes files up to the limit and refuses the rest', () => {
    expect(admit(['a', 'b', 'c'], 48, 50)).toEqual({ taken: ['a', 'b'], refused: ['c'] });
    expect(admit(['a'], 50, 50)).toEqual({ taken: [], refused: ['a'] });
    expect(admit(['a'], 0, 50)).toEqual({ taken: ['a'], refused: [] });
  });
});

describe('timeLeft', () => {
  it('extrapolates the mean encode time to the encodes left', () => {
    expect(timeLeft({ total: 10, done: 4, ms: 2000 })).toBe(3000);
    expect(timeLeft({ total: 10, done: 0, ms: 0 })).toBeUndefined();
  });
});

describe('staleDigests', () => {
  it('lists encoded targets without an answer for the current key', () => {
    const state = {
      encoded: { a: true, b: true, c: true },
      results: { a: { key: 'k1', pins: [], matches: [] }, b: { key: 'k0', pins: [], matches: [] } },
    } as unknown as GalleryState;
    expect(staleDigests(state, 'k1')).toEqual(['b', 'c']);
  });
});

describe('splitName', () => {
  it('keeps the end of a name whole, where names of one folder differ', () => {
    const [head, tail] = splitName('car-S_Cars_0012.jpg');
    expect(head + tail).toBe('car-S_Cars_0012.jpg');
    expect(tail).toHaveLength(NAME_TAIL);
    expect(tail).toBe('s_0012.jpg');
    expect(splitName('a.jpg')).toEqual(['', 'a.jpg']);
  });
});
