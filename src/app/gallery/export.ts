/**
 * The gallery's keypoints as COCO-style JSON and as CSV, in original-image pixels. The source's pins are
 * the keypoints (one per pin, named as the pin is); each target gets them where they were matched, with the
 * confidence's band as COCO visibility: 2 likely right, 1 matched but in doubt, 0 not matched; the scores
 * are the confidences.
 */
import type { Point } from '../../model/types';
import { cocoVisibility } from '../confidence/bands';
import { csvField } from '../csv';
import type { Correspondence, MatchSettings } from '../protocol';

export interface KeypointImage {
  name: string;
  width: number;
  height: number;
  digest: string;
}

export interface GalleryExportInput {
  source: KeypointImage;
  /** The source pins, in keypoint order; `name` names the keypoint. */
  pins: { id: number; name: string; point: Point }[];
  /** The targets, duplicates included, each with its matches by pin id (missing: not matched). */
  targets: { image: KeypointImage; matches: Map<number, Correspondence> }[];
  settings: MatchSettings;
  headVersion: string;
}

export interface CocoKeypoints {
  info: {
    description: string;
    date_created: string;
    settings: { mode: MatchSettings['mode']; scale: number; flip: boolean; head_version: string };
    /** The annotated image the keypoints were carried from (its scores are 1). */
    source_image_id: number;
  };
  images: { id: number; file_name: string; width: number; height: number; sha256: string }[];
  annotations: {
    id: number;
    image_id: number;
    category_id: number;
    /** x1, y1, v1, x2, y2, v2, … */
    keypoints: number[];
    num_keypoints: number;
    /** Calibrated confidence of each match (1 for the source's own pins). */
    scores: number[];
    /** Heat-map peak probability of each match; null for the source. */
    probabilities: (number | null)[];
    /** How far each match lands from its pin when matched back (source pixels); null for the source. */
    back_errors: (number | null)[];
  }[];
  categories: { id: number; name: string; supercategory: string; keypoints: string[]; skeleton: number[][] }[];
}

const CATEGORY_ID = 1;
const SOURCE_IMAGE_ID = 1;

export function toCocoKeypoints(input: GalleryExportInput, now = new Date()): CocoKeypoints {
  const { source, pins, targets, settings, headVersion } = input;
  const image = (id: number, i: KeypointImage) => ({ id, file_name: i.name, width: i.width, height: i.height, sha256: i.digest });
  const sourceAnnotation = {
    id: 1,
    image_id: SOURCE_IMAGE_ID,
    category_id: CATEGORY_ID,
    keypoints: pins.flatMap((p) => [p.point.x, p.point.y, 2]),
    num_keypoints: pins.length,
    scores: pins.map(() => 1),
    probabilities: pins.map(() => null),
    back_errors: pins.map(() => null),
  };
  const targetAnnotations = targets.map(({ matches }, n) => {
    const found = pins.map((p) => matches.get(p.id));
    return {
      id: n + 2,
      image_id: n + 2,
      category_id: CATEGORY_ID,
      // COCO writes an unlabelled keypoint as 0, 0, 0.
      keypoints: found.flatMap((m) => (m ? [m.match.x, m.match.y, cocoVisibility(m)] : [0, 0, 0])),
      num_keypoints: found.filter(Boolean).length,
      scores: found.map((m) => m?.confidence ?? 0),
      probabilities: found.map((m) => m?.probability ?? null),
      back_errors: found.map((m) => m?.backError ?? null),
    };
  });
  return {
    info: {
      description: `Keypoints carried from “${source.name}” by MMNet (semantic correspondence)`,
      date_created: now.toISOString(),
      settings: { mode: settings.mode, scale: settings.scale, flip: settings.flip, head_version: headVersion },
      source_image_id: SOURCE_IMAGE_ID,
    },
    images: [image(SOURCE_IMAGE_ID, source), ...targets.map((t, n) => image(n + 2, t.image))],
    annotations: [sourceAnnotation, ...targetAnnotations],
    categories: [{ id: CATEGORY_ID, name: 'object', supercategory: 'object', keypoints: pins.map((p) => p.name), skeleton: [] }],
  };
}

const CSV_HEADER =
  'file_name,width,height,sha256,role,keypoint,x,y,visibility,confidence,probability,back_error,mode,scale,flip,head_version';

/** One row per image and keypoint (an unmatched one has empty x, y, score); the settings on every row. */
export function toKeypointsCsv(input: GalleryExportInput): string {
  const { source, pins, targets, settings, headVersion } = input;
  const tail = [settings.mode, settings.scale, settings.flip, headVersion];
  const rows = [
    ...pins.map((p) => [...head(source, 'source'), p.name, p.point.x, p.point.y, 2, 1, '', '', ...tail]),
    ...targets.flatMap(({ image, matches }) =>
      pins.map((p) => {
        const m = matches.get(p.id);
        return [
          ...head(image, 'target'),
          p.name,
          m?.match.x ?? '',
          m?.match.y ?? '',
          cocoVisibility(m),
          m?.confidence ?? '',
          m?.probability ?? '',
          m?.backError ?? '',
          ...tail,
        ];
      }),
    ),
  ];
  return [CSV_HEADER, ...rows.map((row) => row.map(csvField).join(','))].join('\n') + '\n';
}

const head = (i: KeypointImage, role: 'source' | 'target') => [i.name, i.width, i.height, i.digest, role];
