/** The matching modes as the app presents them: what each one means, in a line. */
import type { MatchMode, ScaleIndex } from '../model/index';

export const MODES: { mode: MatchMode; label: string; about: string }[] = [
  {
    mode: 'fused',
    label: 'Fused',
    about: "The most accurate: MMNet's learned matching, steered by what a network trained on ImageNet knows about object parts.",
  },
  { mode: 'mmnet', label: 'MMNet only', about: "MMNet's learned matching alone, refined from coarse to fine." },
  { mode: 'raw', label: 'Raw features', about: "A baseline with no learned matching: compares the ImageNet network's features directly." },
];

/** The scales in words: how large a feature cell is, from whole parts to small details. */
export const SCALE_WORDS: Record<ScaleIndex, string> = {
  4: 'coarsest: whole parts',
  3: 'medium',
  2: 'fine',
  1: 'finest: small details',
};
