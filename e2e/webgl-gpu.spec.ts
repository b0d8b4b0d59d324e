import { gpuTest } from './gpu';

gpuTest('webgl', 400_000);
