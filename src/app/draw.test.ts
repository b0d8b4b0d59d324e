import { describe, expect, it } from 'vitest';
import { inkOn } from './draw';

describe('inkOn', () => {
  it('numbers light pins in black and dark pins in white', () => {
    expect(inkOn('#ffe119')).toBe('#000');
    expect(inkOn('#000075')).toBe('#fff');
  });
});
