import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Correspondence } from '../protocol';
import type { ExamplePair, FirstMatches } from './files';
import { FIRST_MATCH_KEY, firstPins } from './firstMatches';

/** Two pins, at (10, 20) and (30, 40). */
const pair: ExamplePair = {
  category: 'c',
  label: 'C',
  source: 'a.jpg',
  target: 'b.jpg',
  pins: [10, 30].map((x) => ({ x, y: x + 10 })),
  gallery: [],
};

const answer = (x: number, y: number): Correspondence => ({
  query: { x, y },
  match: { x: x + 1, y: y + 2 },
  probability: 0.9,
  confidence: 0.95,
  band: 'likely',
  backError: 1,
  consistent: true,
  mirrored: false,
});

const first: FirstMatches = { settings: DEFAULT_SETTINGS, matches: [answer(10, 20), answer(30, 40)] };

describe('firstPins', () => {
  it("numbers the pair's pins from 1 on the source, in the palette's colours, each answered by its build-time match", () => {
    const pins = firstPins(pair, first, DEFAULT_SETTINGS)!;
    expect(pins.map((p) => [p.id, p.side, p.point])).toEqual([
      [1, 'source', { x: 10, y: 20 }],
      [2, 'source', { x: 30, y: 40 }],
    ]);
    expect(new Set(pins.map((p) => p.color)).size).toBe(2);
    expect(pins.map((p) => p.result?.match)).toEqual([
      { x: 11, y: 22 },
      { x: 31, y: 42 },
    ]);
    expect(pins.every((p) => p.result?.key === FIRST_MATCH_KEY)).toBe(true);
  });

  it('gives none where the matches answer other settings, other pins, or are missing', () => {
    expect(firstPins(pair, first, { ...DEFAULT_SETTINGS, scale: DEFAULT_SETTINGS.scale === 1 ? 2 : 1 })).toBeNull();
    expect(firstPins(pair, first, { ...DEFAULT_SETTINGS, flip: !DEFAULT_SETTINGS.flip })).toBeNull();
    expect(firstPins(pair, { ...first, matches: first.matches.slice(1) }, DEFAULT_SETTINGS)).toBeNull();
    expect(firstPins(pair, undefined, DEFAULT_SETTINGS)).toBeNull();
  });
});
