import { describe, expect, it } from 'vitest';
import { toCocoKeypoints, toKeypointsCsv, type GalleryExportInput } from './export';
import { bandOf } from '../confidence/bands';
import type { Correspondence } from '../protocol';

/** A match whose confidence is twice its probability (so the two columns differ), banded at 70 % / 30 %. */
const match = (x: number, y: number, probability: number, consistent: boolean): Correspondence => ({
  query: { x: 0, y: 0 },
  match: { x, y },
  probability,
  confidence: Math.min(2 * probability, 1),
  band: bandOf(Math.min(2 * probability, 1), { likely: 0.7, unsure: 0.3 }),
  backError: consistent ? 1.5 : 40,
  consistent,
  mirrored: false,
});

const input: GalleryExportInput = {
  source: { name: 'source.jpg', width: 300, height: 200, digest: 'aa' },
  pins: [
    { id: 3, name: 'nose, tip', point: { x: 10, y: 20 } },
    { id: 7, name: 'pin 7', point: { x: 30.123456, y: 40 } },
  ],
  targets: [
    {
      image: { name: 'a.jpg', width: 400, height: 300, digest: 'bb' },
      matches: new Map([
        [3, match(12, 22, 0.25, true)], // consistent, but only unsure
        [7, match(35, 41, 0.01, false)],
      ]),
    },
    { image: { name: 'b, "copy".jpg', width: 640, height: 480, digest: 'cc' }, matches: new Map([[7, match(1, 2, 0.9, true)]]) },
  ],
  settings: { mode: 'fused', scale: 3, flip: true },
  headVersion: 'v2',
};

describe('toCocoKeypoints', () => {
  const coco = toCocoKeypoints(input, new Date('2026-01-02T03:04:05Z'));

  it('lists the source first, then every target, with sizes and digests', () => {
    expect(coco.images).toEqual([
      { id: 1, file_name: 'source.jpg', width: 300, height: 200, sha256: 'aa' },
      { id: 2, file_name: 'a.jpg', width: 400, height: 300, sha256: 'bb' },
      { id: 3, file_name: 'b, "copy".jpg', width: 640, height: 480, sha256: 'cc' },
    ]);
    expect(coco.info.source_image_id).toBe(1);
  });

  it('names one keypoint per pin, as the pin is named, and records the settings', () => {
    expect(coco.categories[0].keypoints).toEqual(['nose, tip', 'pin 7']);
    expect(coco.info.settings).toEqual({ mode: 'fused', scale: 3, flip: true, head_version: 'v2' });
    expect(coco.info.date_created).toBe('2026-01-02T03:04:05.000Z');
  });

  it('writes x, y, visibility triples (2 likely right, 1 in doubt) with the confidences as scores; an unmatched keypoint is 0, 0, 0', () => {
    const [source, a, b] = coco.annotations;
    expect(source).toMatchObject({ image_id: 1, keypoints: [10, 20, 2, 30.123456, 40, 2], num_keypoints: 2, scores: [1, 1] });
    expect(a).toMatchObject({
      image_id: 2,
      keypoints: [12, 22, 1, 35, 41, 1],
      num_keypoints: 2,
      scores: [0.5, 0.02],
      probabilities: [0.25, 0.01],
      back_errors: [1.5, 40],
    });
    expect(b).toMatchObject({ image_id: 3, keypoints: [0, 0, 0, 1, 2, 2], num_keypoints: 1, scores: [0, 1], back_errors: [null, 1.5] });
    expect(new Set(coco.annotations.map((x) => x.id)).size).toBe(3);
  });
});

describe('toKeypointsCsv', () => {
  it('writes one row per image and keypoint, quoting names, with the settings on each row', () => {
    expect(toKeypointsCsv(input).split('\n')).toEqual([
      'file_name,width,height,sha256,role,keypoint,x,y,visibility,confidence,probability,back_error,mode,scale,flip,head_version',
      'source.jpg,300,200,aa,source,"nose, tip",10,20,2,1,,,fused,3,true,v2',
      'source.jpg,300,200,aa,source,pin 7,30.1235,40,2,1,,,fused,3,true,v2',
      'a.jpg,400,300,bb,target,"nose, tip",12,22,1,0.5,0.25,1.5,fused,3,true,v2',
      'a.jpg,400,300,bb,target,pin 7,35,41,1,0.02,0.01,40,fused,3,true,v2',
      '"b, ""copy"".jpg",640,480,cc,target,"nose, tip",,,0,,,,fused,3,true,v2',
      '"b, ""copy"".jpg",640,480,cc,target,pin 7,1,2,2,1,0.9,1.5,fused,3,true,v2',
      '',
    ]);
  });
});
