/**
 * The example's first arrows and its pair's consensus (built by `npm run models`) are what its shipped
 * features give now.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { consensusPath, featuresPath, firstMatchesPath, type FirstMatches } from '../../src/app/examples/files';
import { MODEL_NAME } from '../../src/model/constants';
import { REPO_ROOT } from '../../src/model/testing/paths';
import { CALTECH_DIR, EXAMPLES } from './example-pairs';
import { exampleMatcher, pairFiles, pairOf } from './example-features';

const SITE_MODEL = join(REPO_ROOT, 'public/models', MODEL_NAME);

describe.runIf(existsSync(CALTECH_DIR))('first matches', () => {
  it('ship one answer per pin and the consensus both ways, equal to matching the shipped features with the panes’ settings', async () => {
    const matcher = await exampleMatcher(SITE_MODEL);
    const before = tf.memory().numTensors;
    const site = (path: string) => readFileSync(join(REPO_ROOT, 'public', path));
    for (const example of EXAMPLES) {
      const shipped = JSON.parse(site(firstMatchesPath(pairOf(example))).toString('utf8')) as FirstMatches;
      expect(shipped.matches.map((m) => m.query)).toEqual(example.pins);
      const { first, consensus } = await pairFiles(example, matcher);
      expect(shipped).toEqual(first);
      const { source, target } = pairOf(example);
      expect(new Uint8Array(site(consensusPath(source, target)))).toEqual(consensus.forward);
      expect(new Uint8Array(site(consensusPath(target, source)))).toEqual(consensus.backward);
      // Issue 21's budget: what the example needs before the weights, at most 1 MiB a pair.
      const files = [featuresPath(source), featuresPath(target), consensusPath(source, target), consensusPath(target, source)];
      expect(files.reduce((sum, path) => sum + site(path).byteLength, 0)).toBeLessThanOrEqual(2 ** 20);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
