/** vitest globalSetup: the fixtures are outputs of head v0 in float16, so the tests run a model built so. */
import { execFileSync } from 'node:child_process';
import { REPO_ROOT, TEST_MODEL_DIR } from './paths';

export default function setup(): void {
  execFileSync('npx', ['tsx', 'scripts/build-models.ts', '--head', 'mmnet_head_v0', '--quantize', 'float16', '--out', TEST_MODEL_DIR], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}
