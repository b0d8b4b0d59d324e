/**
 * vitest globalSetup: the fixtures are outputs of head v0 in float16, so the tests run a model built so;
 * a second build of head v0 in the shipped storage (or $MMNET_QUANTIZE's) checks parity within the
 * quantization's tolerance.
 */
import { execFileSync } from 'node:child_process';
import { REPO_ROOT, TEST_MODEL_DIR, TEST_SHIPPED_MODEL_DIR, TEST_SHIPPED_SCHEME } from '../../src/model/testing/paths';

const build = (scheme: string, out: string) =>
  execFileSync('npx', ['tsx', 'scripts/build/build-models.ts', '--head', 'mmnet_head_v0', '--quantize', scheme, '--out', out], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });

export default function setup(): void {
  build('float16', TEST_MODEL_DIR);
  build(TEST_SHIPPED_SCHEME, TEST_SHIPPED_MODEL_DIR);
}
