import { describe, expect, it } from 'vitest';
import { allUncertain, bandOf, bandRanges, cocoVisibility, confidenceText, UNCALIBRATED } from './bands';

const bands = { likely: 0.7, unsure: 0.3 };

describe('bands', () => {
  it('puts a confidence in words at the calibration’s thresholds', () => {
    expect([0.83, 0.7, 0.45, 0.3, 0.12].map((c) => bandOf(c, bands))).toEqual(['likely', 'likely', 'unsure', 'unsure', 'wrong']);
    expect(confidenceText({ confidence: 0.83, band: 'likely' })).toBe('likely right · 83 %');
    expect(confidenceText({ confidence: 0.123, band: 'wrong' })).toBe('probably wrong · 12 %');
  });

  it('calls everything unsure without a calibration', () => {
    expect([0, 0.5, 1].map((c) => bandOf(c, UNCALIBRATED))).toEqual(['unsure', 'unsure', 'unsure']);
    expect(bandRanges(UNCALIBRATED)).toHaveLength(1);
  });

  it('states each band’s range from the thresholds', () => {
    expect(bandRanges(bands).map((b) => b.range)).toEqual(['≥ 70 %', '30 %–70 %', '< 30 %']);
  });

  it('finds a pair uncertain only when it has matches and none is likely right', () => {
    expect(allUncertain([])).toBe(false);
    expect(allUncertain([{ band: 'unsure' }, { band: 'wrong' }])).toBe(true);
    expect(allUncertain([{ band: 'wrong' }, { band: 'likely' }])).toBe(false);
  });

  it('gives COCO visibility 2 to likely right matches, 1 to doubtful ones, 0 to none', () => {
    expect([
      cocoVisibility({ band: 'likely' }),
      cocoVisibility({ band: 'unsure' }),
      cocoVisibility({ band: 'wrong' }),
      cocoVisibility(undefined),
    ]).toEqual([2, 1, 1, 0]);
  });
});
