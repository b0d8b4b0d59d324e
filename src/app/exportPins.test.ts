import { describe, expect, it } from 'vitest';
import { toCsv, toExport, type Export } from './exportPins';
import type { Point } from '../model/types';
import type { Band } from './confidence/bands';
import { addPin, renamePin, useStore } from './store';

const found = (match: Point, confidence: number, band: Band, probability: number, backError: number, consistent: boolean) => ({
  match,
  confidence,
  band,
  probability,
  backError,
  consistent,
});

const data: Export = {
  source: { name: 'a.jpg', width: 300, height: 200 },
  target: { name: 'b.jpg', width: 400, height: 300 },
  settings: { mode: 'fused', scale: 3, flip: false },
  pins: [
    {
      pin: 1,
      name: 'left, ear',
      side: 'source',
      query: { x: 10, y: 20 },
      ...found({ x: 12.34567, y: 22 }, 0.8312, 'likely', 0.5, 1.5, true),
    },
    {
      pin: 2,
      name: 'pin 2',
      side: 'target',
      query: { x: 5, y: 6 },
      match: null,
      confidence: null,
      band: null,
      probability: null,
      backError: null,
      consistent: null,
    },
  ],
  dense: [{ pin: null, name: null, side: 'source', query: { x: 1, y: 2 }, ...found({ x: 3, y: 4 }, 0.12, 'wrong', 0.1, 40, false) }],
};

describe('toCsv', () => {
  it('writes a header, one row per pin with its name, quoted where needed (unanswered ones left blank) and the dense matches', () => {
    expect(toCsv(data).split('\n')).toEqual([
      'kind,pin,name,query_side,query_x,query_y,match_x,match_y,confidence,band,probability,back_error,consistent',
      'pin,1,"left, ear",source,10,20,12.3457,22,0.8312,likely,0.5,1.5,true',
      'pin,2,pin 2,target,5,6,,,,,,,',
      'dense,,,source,1,2,3,4,0.12,wrong,0.1,40,false',
      '',
    ]);
  });
});

describe('toExport', () => {
  it('carries each pin under its name, "pin N" until renamed', () => {
    useStore.setState({ pins: [], images: { source: null, target: null } });
    addPin('source', { x: 1, y: 2 });
    addPin('target', { x: 3, y: 4 });
    const [first, second] = useStore.getState().pins;
    renamePin(first.id, 'front wheel');
    expect(toExport(useStore.getState()).pins.map((p) => p.name)).toEqual(['front wheel', `pin ${second.id}`]);
    expect(toCsv(toExport(useStore.getState()))).toContain(`pin,${first.id},front wheel,source,1,2`);
  });
});
