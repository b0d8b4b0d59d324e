import { describe, expect, it } from 'vitest';
import { toCsv, type Export } from './exportPins';

const data: Export = {
  source: { name: 'a.jpg', width: 300, height: 200 },
  target: { name: 'b.jpg', width: 400, height: 300 },
  settings: { mode: 'fused', scale: 3, flip: false },
  pins: [
    {
      pin: 1,
      side: 'source',
      query: { x: 10, y: 20 },
      match: { x: 12.34567, y: 22 },
      confidence: 0.8312,
      band: 'likely',
      probability: 0.5,
      backError: 1.5,
      consistent: true,
    },
    {
      pin: 2,
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
  dense: [
    {
      pin: null,
      side: 'source',
      query: { x: 1, y: 2 },
      match: { x: 3, y: 4 },
      confidence: 0.12,
      band: 'wrong',
      probability: 0.1,
      backError: 40,
      consistent: false,
    },
  ],
};

describe('toCsv', () => {
  it('writes a header, one row per pin (unanswered ones left blank) and the dense matches', () => {
    expect(toCsv(data).split('\n')).toEqual([
      'kind,pin,query_side,query_x,query_y,match_x,match_y,confidence,band,probability,back_error,consistent',
      'pin,1,source,10,20,12.3457,22,0.8312,likely,0.5,1.5,true',
      'pin,2,target,5,6,,,,,,,',
      'dense,,source,1,2,3,4,0.12,wrong,0.1,40,false',
      '',
    ]);
  });
});
