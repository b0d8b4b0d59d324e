/**
 * MMNet's own WebGPU kernels: fused steps that tfjs would run as many small kernels (on a fast GPU an
 * encode is bound by dispatching them). Each op runs its reference tfjs ops on every other backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedScoresConfig } from './fused-scores';
import { msBranchesConfig } from './ms-branches';
import { preActivationConfig } from './pre-activation';
import { scaleSumConfig } from './scale-sum';
import { weightAverageConfig } from './weight-average';

for (const config of [preActivationConfig, msBranchesConfig, scaleSumConfig, weightAverageConfig, fusedScoresConfig])
  tf.registerKernel(config);

export { fusedScores, upsampleRows } from './fused-scores';
export { msBranches, type MSBranch } from './ms-branches';
export { preActivation } from './pre-activation';
export { scaleSum } from './scale-sum';
export { padEdge, weightAverage } from './weight-average';
