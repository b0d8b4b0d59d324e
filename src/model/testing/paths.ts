/** Where the checkout's files are, for the Node tests and the CLIs under scripts/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_NAME } from '../constants';
import { DEFAULT_SCHEME, type Scheme } from '../quantization';

/**
 * The repository root, whatever the working directory: the nearest folder above this file that holds
 * `models/DEFAULT_HEAD` (so esbuild bundles of the CLIs, laid out as a repo by scripts/gpu/run.sh, find it too).
 */
function repoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'models', 'DEFAULT_HEAD'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository (models/DEFAULT_HEAD) above ${from}`);
  }
}

export const REPO_ROOT = repoRoot(dirname(fileURLToPath(import.meta.url)));
/** ../shared beside the checkout: fixtures and datasets (read-only). */
export const SHARED_DIR = join(REPO_ROOT, '..', 'shared');
/** Where `npm run models` puts the default model. */
const MODEL_DIR = join(REPO_ROOT, 'public', 'models');
/** The model `npm run models` builds, which the CLIs load unless told otherwise. */
export const BUILT_MODEL_DIR = join(MODEL_DIR, MODEL_NAME);
/** The model the Node tests load: head v0, whose outputs ../shared/fixtures hold (built by scripts/testing/global-setup.ts). */
export const TEST_MODEL_DIR = join(REPO_ROOT, '.cache', 'test-models', 'mmnet-r101v2-head-v0');
/** Head v0 stored as `npm run models` ships it, for parity within the quantization's tolerance. */
export const TEST_SHIPPED_MODEL_DIR = join(REPO_ROOT, '.cache', 'test-models', 'mmnet-r101v2-head-v0-shipped');
/** The storage of TEST_SHIPPED_MODEL_DIR: $MMNET_QUANTIZE, else what the site ships. */
export const TEST_SHIPPED_SCHEME: Scheme = (process.env.MMNET_QUANTIZE as Scheme | undefined) ?? DEFAULT_SCHEME;
/** The calibration of `Match.confidence`: written by `npm run fit:confidence`, shipped in the metadata by `npm run models`. */
export const CONFIDENCE_FILE = join(REPO_ROOT, 'models', 'confidence.json');
