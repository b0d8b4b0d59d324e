/** The example's first arrows (built by `npm run models`) are what its shipped features answer now. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { firstMatchesPath, type FirstMatches } from '../../src/app/examples/files';
import { MODEL_NAME } from '../../src/model/constants';
import { REPO_ROOT } from '../../src/model/testing/paths';
import { CALTECH_DIR, EXAMPLES } from './example-pairs';
import { exampleMatcher, firstMatches, pairOf } from './example-features';

const SITE_MODEL = join(REPO_ROOT, 'public/models', MODEL_NAME);

describe.runIf(existsSync(CALTECH_DIR))('first matches', () => {
  it('ship one answer per pin, equal to matching the shipped features with the panes’ settings', async () => {
    const matcher = await exampleMatcher(SITE_MODEL);
    const before = tf.memory().numTensors;
    for (const example of EXAMPLES) {
      const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'public', firstMatchesPath(pairOf(example))), 'utf8')) as FirstMatches;
      expect(shipped.matches.map((m) => m.query)).toEqual(example.pins);
      expect(shipped).toEqual(await firstMatches(example, matcher));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
