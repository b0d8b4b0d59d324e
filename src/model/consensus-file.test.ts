import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { pairConsensus } from './consensus';
import { readConsensus, serializeConsensus } from './consensus-file';
import { Matcher } from './matcher';
import { encodedPair, pairPoints } from './testing/parity-fixtures';
import { TEST_MODEL_DIR } from './testing/paths';
import type { Features } from './features';
import type { MMNet } from './mmnet';
import type { MatchOptions } from './types';

describe('a pair’s consensus as a file', () => {
  let model: MMNet;
  let source: Features;
  let target: Features;
  encodedPair(TEST_MODEL_DIR, (m, a, b) => ([model, source, target] = [m, a, b]));
  // The pair's histograms alone unless a test asks for the query-centred one, which recasts the votes.
  const options: MatchOptions = { scale: 3, mode: 'fused', heatmap: true, consensus: true, mirror: false, local: false };
  const heatmaps = async (matcher: Matcher, extra: MatchOptions = {}) =>
    (await matcher.matchMany([{ source, target, points: pairPoints }], { ...options, ...extra }))[0].map((m) =>
      Array.from(m.heatmap!.data),
    );

  it('round-trips the plain geometry: histograms, target prior and scale hypotheses, to the bit', async () => {
    const constants = model.metadata.matching;
    expect(constants.houghScales!.length).toBeGreaterThan(1);
    const c = await pairConsensus(source.maps, target.maps, target.maps, constants);
    const { key, consensus } = readConsensus(serializeConsensus(c, 'the key'));
    expect(key).toBe('the key');
    expect(consensus.grid).toEqual(c.grid);
    const { data, peak, explained, targetPrior, scaled } = consensus.plain;
    expect([peak, explained]).toEqual([c.plain.peak, c.plain.explained]);
    expect(Array.from(data)).toEqual(Array.from(c.plain.data));
    expect(Array.from(targetPrior)).toEqual(Array.from(c.plain.targetPrior));
    expect(scaled!.total).toBe(c.plain.scaled!.total);
    expect(scaled!.histograms.map((h) => ({ ...h, data: Array.from(h.data) }))).toEqual(
      c.plain.scaled!.histograms.map((h) => ({ ...h, data: Array.from(h.data) })),
    );
    // Without the mirror rule the mirrored geometry goes unused; the votes only when asked for.
    expect(consensus.mirrored).toBe(consensus.plain);
    expect(consensus.plain.votes).toBeUndefined();
  });

  it('keeps the votes when asked, each within half a step of its source cell’s uint8 scale', async () => {
    const c = await pairConsensus(source.maps, target.maps, target.maps, model.metadata.matching);
    const votes = c.plain.votes!;
    const read = readConsensus(serializeConsensus(c, 'k', true)).consensus.plain.votes!;
    const cells = c.plain.targetPrior.length;
    expect(read.length).toBe(cells * cells);
    for (let s = 0; s < cells; s++) {
      const row = votes.subarray(s * cells, (s + 1) * cells);
      const step = row.reduce((a, b) => Math.max(a, b), 0) / 255;
      for (let t = 0; t < cells; t++) expect(Math.abs(read[s * cells + t] - row[t])).toBeLessThanOrEqual(step / 2 + 1e-7 * step);
    }
  });

  it('refuses a truncated file and a file of another kind', async () => {
    const c = await pairConsensus(source.maps, target.maps, target.maps, model.metadata.matching);
    const bytes = serializeConsensus(c, 'k');
    expect(() => readConsensus(bytes.subarray(0, bytes.length - 4))).toThrow(/header says/);
    expect(() => readConsensus(new Uint8Array(64))).toThrow(/not a consensus file/);
  });

  it('is what a matcher that adopts it matches with: the same answers as computing it, and no tensor kept', async () => {
    const computing = new Matcher(model.metadata);
    const expected = await heatmaps(computing);
    const before = tf.memory().numTensors;
    const adopting = new Matcher(model.metadata);
    expect(adopting.adoptConsensus(source, target, await computing.consensusFile(source, target))).toBe(true);
    expect(await heatmaps(adopting)).toEqual(expected);
    expect(tf.memory().numTensors).toBe(before);

    // The adopted file is the one used: another pair's consensus (the reverse direction's) changes the answers.
    const misled = new Matcher(model.metadata);
    misled.adoptConsensus(source, target, await computing.consensusFile(target, source));
    expect(await heatmaps(misled)).not.toEqual(expected);
  });

  it('is refused by a matcher with other constants, which computes the pair itself', async () => {
    const file = await new Matcher(model.metadata).consensusFile(source, target);
    const metadata = structuredClone(model.metadata);
    metadata.matching.sigma *= 2;
    const other = new Matcher(metadata);
    expect(other.adoptConsensus(source, target, file)).toBe(false);
    expect(await heatmaps(other)).toEqual(await heatmaps(new Matcher(metadata)));
  });

  it('serves the query-centred histogram from its votes, or gives way to the pair computed anew without them', async () => {
    const computing = new Matcher(model.metadata);
    const expected = await heatmaps(computing, { local: true });
    const withoutVotes = new Matcher(model.metadata);
    withoutVotes.adoptConsensus(source, target, await computing.consensusFile(source, target));
    expect(await heatmaps(withoutVotes, { local: true })).toEqual(expected);

    const withVotes = new Matcher(model.metadata);
    withVotes.adoptConsensus(source, target, await computing.consensusFile(source, target, true));
    const found = await heatmaps(withVotes, { local: true });
    // The uint8 votes move each probability by far less than the local term itself does (above: > 1e-3).
    found.forEach((row, n) => expect(Math.max(...row.map((v, k) => Math.abs(v - expected[n][k])))).toBeLessThan(2e-4));
    const global = await heatmaps(computing);
    expect(Math.max(...expected.flatMap((row, n) => row.map((v, k) => Math.abs(v - global[n][k]))))).toBeGreaterThan(1e-3);
  });
});
