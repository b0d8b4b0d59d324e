import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whatever the working directory. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** ../shared beside the checkout: fixtures and datasets (read-only). */
export const SHARED_DIR = join(REPO_ROOT, '..', 'shared');
/** Where `npm run models` puts the default model. */
export const MODEL_DIR = join(REPO_ROOT, 'public', 'models');
/** The model the Node tests load: head v0, whose outputs ../shared/fixtures hold (built by scripts/test-setup.ts). */
export const TEST_MODEL_DIR = join(REPO_ROOT, '.cache', 'test-models', 'mmnet-r101v2-head-v0');
/** Head v0 stored as `npm run models` ships it (scripts/quantize.ts DEFAULT_SCHEME), for parity within the quantization's tolerance. */
export const TEST_SHIPPED_MODEL_DIR = join(REPO_ROOT, '.cache', 'test-models', 'mmnet-r101v2-head-v0-shipped');
