import { gpuTest } from './gpu';

gpuTest('webgpu', 600_000, { survivesGpuCrash: true });
