export { loadMMNet, MMNet, type LoadOptions } from './mmnet';
export type { TrunkEncoder, TrunkFeatures } from './early-trunk';
export { Matcher, type MatchQuery } from './matcher';
export { Features } from './features';
export { downloadModel, loadMetadata, type ModelDownload } from './download';
export { readFeatures, serializeFeatures } from './feature-file';
export { selectBackend } from './backend';
/** Live tensor count and bytes of the current backend, for leak checks and status displays. */
export { memory } from '@tensorflow/tfjs-core';
export { MMNetError, type MMNetErrorCode } from './errors';
export { toInput, toOriginal } from './image';
export { hasOneGrid } from './matching';
export type { ModelMetadata } from './weights';
export type { DequantizeElsewhere } from './quantization';
export {
  calibrationKey,
  SIGNALS,
  PREDICTION_SETTINGS,
  type ConfidenceCalibration,
  type PredictionSetting,
  type CalibratorConstants,
  type MatchSignals,
  type SignalName,
} from './confidence';
export * from './constants';
export type * from './types';
