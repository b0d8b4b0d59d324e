/** The matching modes as the app presents them: what each one means, in a line. */
import type { MatchMode } from '../model/index';

export const MODES: { mode: MatchMode; label: string; about: string }[] = [
  { mode: 'fused', label: 'Fused', about: "MMNet's learned rows plus the ImageNet trunk's semantic prior: the most accurate." },
  { mode: 'mmnet', label: 'MMNet only', about: 'The learned multi-scale matching head alone, refined coarse to fine.' },
  { mode: 'raw', label: 'Raw features', about: 'Training-free baseline: cosine similarity of the ResNet trunk features (stride 16).' },
];
