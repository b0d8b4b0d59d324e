/** The public API's error paths and resource hygiene: every failure is typed, nothing leaks. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MODEL_DIR } from './testing/paths';
import { texturedImage } from './testing/images';
import { fileFetch, loadNodeModel, modelUrl } from './node/io';
import { MMNetError, loadMMNet, type MMNet, type Features, type Match } from '.';
import { BLOCK_UNITS, INPUT_HEIGHT, INPUT_WIDTH } from './constants';
import { neighbourPlan } from './matcher';
import { toInput, toOriginal } from './image';
import { gridOf } from './matching';
import { transferCentres, transferredPoint, type Landing } from './transfer';
import type { Point } from './types';

let model: MMNet;
let a: Features;
let b: Features;

beforeAll(async () => {
  model = await loadNodeModel(TEST_MODEL_DIR);
  const [ia, ib] = [texturedImage(), texturedImage(8)];
  a = await model.encode(ia);
  b = await model.encode(ib);
  tf.dispose([ia, ib]);
});
afterAll(() => {
  a.dispose();
  b.dispose();
  model.dispose();
});

async function expectError(promise: Promise<unknown>, code: MMNetError['code'], message?: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MMNetError);
  expect((error as MMNetError).code).toBe(code);
  if (message) expect((error as MMNetError).message).toMatch(message);
}

/** Runs `f` and checks it left no tensor behind, whether it resolved or threw. */
async function withoutLeaks(f: () => Promise<unknown>) {
  const before = tf.memory().numTensors;
  await f();
  expect(tf.memory().numTensors).toBe(before);
}

describe('encode', () => {
  it('remembers the original size and maps points back into it', async () => {
    expect(a.size).toEqual({ width: 128, height: 96 });
    const [m] = await model.match(a, b, [{ x: 60, y: 40 }], { heatmap: true });
    expect(m.source).toEqual({ x: 60, y: 40 });
    expect(m.target.x).toBeGreaterThan(0);
    expect(m.target.x).toBeLessThan(128);
    expect(m.heatmap!.data.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    expect(m.probability).toBeGreaterThan(0);
    expect(m.probability).toBeLessThanOrEqual(1);
  });

  it.each([
    ['an empty pixel buffer', () => ({ data: new Uint8Array(0), width: 0, height: 0 }), /empty/],
    ['a two-channel buffer', () => ({ data: new Uint8Array(2 * 4 * 4), width: 4, height: 4 }), /neither RGB nor RGBA/],
    ['a four-channel tensor', () => tf.zeros([4, 4, 4]) as tf.Tensor3D, /H×W×3/],
    ['a zero-height tensor', () => tf.zeros([0, 4, 3]) as tf.Tensor3D, /empty/],
    ['a NaN pixel', () => tf.fill([4, 4, 3], NaN) as tf.Tensor3D, /NaN/],
  ])('rejects %s with a bad-image error and no leak', async (_, make, message) => {
    const input = make();
    await withoutLeaks(() => expectError(model.encode(input), 'bad-image', message));
    if (input instanceof tf.Tensor) input.dispose();
  });

  it('leaves no tensor after encode → match → dispose cycles', async () => {
    const input = texturedImage(3);
    // `a` lives on: its mirrored maps, encoded lazily on first use, stay with it until a.dispose().
    await model.match(a, a, [{ x: 1, y: 1 }], { flip: true });
    await withoutLeaks(async () => {
      for (let k = 0; k < 3; k++) {
        const f = await model.encode(input);
        await model.match(
          a,
          f,
          [
            { x: 10, y: 10 },
            { x: 100, y: 80 },
          ],
          { heatmap: true },
        );
        await model.match(f, a, [{ x: 50, y: 50 }], { mode: 'mmnet', scale: 1, flip: true });
        f.dispose();
      }
    });
    input.dispose();
  });
});

describe('encodeMirror a unit at a time', () => {
  const TRUNK_UNITS = BLOCK_UNITS.reduce((sum, n) => sum + n, 0);
  const headOf = (f: Features) => (f as unknown as { flipped: { head: { cells: tf.Tensor }[] } }).flipped.head;

  it('lets other work in after every trunk unit, and makes the mirror an encode at once makes', async () => {
    const input = texturedImage(5);
    const [stepped, whole] = [await model.encode(input), await model.encode(input)];
    let calls = 0;
    let matchedBetween = false;
    await model.encodeMirror(stepped, {
      between: async () => {
        calls++;
        // Work that runs between two units sees a consistent model (here a match of other features).
        if (calls === 5) matchedBetween = (await model.match(a, b, [{ x: 60, y: 40 }])).length === 1;
      },
    });
    await model.encodeMirror(whole);
    expect(calls).toBe(TRUNK_UNITS);
    expect(matchedBetween).toBe(true);
    expect(stepped.hasMirror).toBe(true);
    for (const [k, map] of headOf(stepped).entries()) {
      const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(map.cells, headOf(whole)[k].cells))).dataSync()[0]);
      expect(difference).toBe(0);
    }
    tf.dispose([input]);
    stepped.dispose();
    whole.dispose();
  });

  it('abandoned by a throw from between, frees what it made and leaves no mirror', async () => {
    const input = texturedImage(6);
    const f = await model.encode(input);
    await withoutLeaks(async () => {
      let calls = 0;
      const stop = async () => {
        if (++calls === 7) throw new Error('the image changed');
      };
      await expect(model.encodeMirror(f, { between: stop })).rejects.toThrow('the image changed');
    });
    expect(f.hasMirror).toBe(false);
    f.dispose();
    input.dispose();
  });

  it('drops its maps when the features are disposed meanwhile, and says so', async () => {
    const input = texturedImage(7);
    await withoutLeaks(async () => {
      const f = await model.encode(input);
      let calls = 0;
      const disposeMidway = async () => {
        if (++calls === 3) f.dispose();
      };
      await expectError(model.encodeMirror(f, { between: disposeMidway }), 'bad-argument', /disposed/);
    });
    input.dispose();
  });
});

describe('match', () => {
  it.each([
    ['scale 5', { scale: 5 }, /scale/],
    ['the fused mode at scale 4', { scale: 4, mode: 'fused' }, /fused/],
    ['an unknown mode', { mode: 'best' }, /mode/],
  ])('rejects %s', async (_, options, message) => {
    await withoutLeaks(() => expectError(model.match(a, b, [{ x: 1, y: 1 }], options as never), 'bad-argument', message));
  });

  it('rejects a non-finite point and disposed features', async () => {
    await withoutLeaks(() => expectError(model.match(a, b, [{ x: NaN, y: 1 }]), 'bad-argument', /not a point/));
    const input = texturedImage();
    const f = await model.encode(input);
    input.dispose();
    f.dispose();
    await expectError(model.match(a, f, [{ x: 1, y: 1 }]), 'bad-argument', /disposed/);
  });

  it('matchMany answers each query as match does alone, in every mode, flipped too', async () => {
    const queries = [
      {
        source: a,
        target: b,
        points: [
          { x: 40, y: 30 },
          { x: 90, y: 60 },
        ],
      },
      { source: b, target: a, points: [{ x: 70, y: 50 }] },
      { source: a, target: b, points: [] },
    ];
    for (const options of [{ mode: 'fused' }, { mode: 'mmnet', scale: 2 }, { mode: 'raw' }, { mode: 'fused', flip: true }] as const) {
      const alone = await Promise.all(queries.map((q) => model.match(q.source, q.target, q.points, options)));
      await withoutLeaks(async () => expect(await model.matchMany(queries, options), JSON.stringify(options)).toEqual(alone));
    }
  });

  it('rates every match in [0, 1] from finite signals, and matches on a flat grey image below those on the shifted copy', async () => {
    const grey = tf.fill([96, 128, 3], 128) as tf.Tensor3D;
    const flat = await model.encode(grey);
    grey.dispose();
    const points = [40, 60, 80].flatMap((x) => [30, 60].map((y) => ({ x, y })));
    const mean = (ms: Match[]) => ms.reduce((sum, m) => sum + m.confidence, 0) / ms.length;
    for (const options of [{}, { mode: 'mmnet', scale: 1 }, { mode: 'raw' }, { consensus: false }] as const) {
      const shifted = await model.match(a, b, points, options);
      const unrelated = await model.match(a, flat, points, options);
      for (const m of [...shifted, ...unrelated]) {
        expect(m.confidence).toBeGreaterThanOrEqual(0);
        expect(m.confidence).toBeLessThanOrEqual(1);
        expect(Number.isFinite(m.backError)).toBe(true);
      }
      expect(mean(unrelated), JSON.stringify(options)).toBeLessThan(mean(shifted));
    }
    flat.dispose();
  });

  it('reads the neighbours’ agreement and the trunk’s cosine: an image matched on itself, not on noise', async () => {
    // Noise has no structure for the neighbours to agree on; the image itself has one answer per point.
    const pixels = tf.tidy(() => tf.mul(tf.randomUniform([96, 128, 3], 0, 1, 'float32', 7), 255) as tf.Tensor3D);
    const noise = await model.encode(pixels);
    pixels.dispose();
    const points = [40, 60, 80].flatMap((x) => [30, 60].map((y) => ({ x, y })));
    const mean = (ms: Match[], f: (m: Match) => number) => ms.reduce((sum, m) => sum + f(m), 0) / ms.length;
    for (const options of [{}, { mode: 'mmnet', scale: 2 }, { mode: 'raw', consensus: false }] as const) {
      const itself = await model.match(a, a, points, { ...options, allSignals: true });
      const unrelated = await model.match(a, noise, points, { ...options, allSignals: true });
      const label = JSON.stringify(options);
      for (const m of [...itself, ...unrelated]) {
        for (const name of ['spread', 'rawCosine', 'weightedEntropy'] as const) expect(Number.isFinite(m.signals[name]), name).toBe(true);
      }
      expect(
        mean(itself, (m) => m.signals.spread),
        label,
      ).toBeLessThan(mean(unrelated, (m) => m.signals.spread));
      expect(
        mean(itself, (m) => m.signals.rawCosine),
        label,
      ).toBeGreaterThan(mean(unrelated, (m) => m.signals.rawCosine));
    }
    noise.dispose();
  });

  it('matches the neighbours of a grid once: the grid reads its own rows, and its spread is that of each point alone', async () => {
    // One neighbour step (32 input px) in the source's own pixels: a 3×2 grid whose neighbours are mostly its points.
    const step = { x: (32 * a.size.width) / INPUT_WIDTH, y: (32 * a.size.height) / INPUT_HEIGHT };
    const grid = [1, 2, 3].flatMap((i) => [1, 2].map((j) => ({ x: step.x * i, y: step.y * j })));
    const { extra, index } = neighbourPlan({ source: a, target: b, points: grid });
    expect(extra).toHaveLength(10); // 24 neighbours, 14 of them grid points
    expect(index.filter((i) => i < grid.length)).toHaveLength(14);
    // With `local` an asked point's row carries its own histogram: the neighbours are then all matched as extras.
    expect(neighbourPlan({ source: a, target: b, points: grid }, false).extra).toHaveLength(16); // the 10, and the 6 grid points again
    for (const local of [false, true]) {
      const together = await model.match(a, b, grid, { allSignals: true, local });
      for (const [n, p] of grid.entries()) {
        const [alone] = await model.match(a, b, [p], { allSignals: true, local });
        expect(together[n].signals.spread).toBeCloseTo(alone.signals.spread, 5);
      }
    }
  });

  it('places a point by keypoint transfer: its own and its 3×3 nearest cells’ landings, weighed by their probabilities', async () => {
    const { transfer, transferRadius, transferExponent } = model.metadata.matching;
    const p = { x: 50, y: 37 };
    // The cells' rows carry the pair's histogram alone, so the query-centred one is off for the comparison.
    const [transferred] = await model.match(a, b, [p], { transfer: true, local: false });
    // Off by default (docs/geometry.md, round 5): the point at its own row's peak.
    expect(transfer).toBe(false);
    expect((await model.match(a, b, [p]))[0].target).toEqual((await model.match(a, b, [p], { transfer: false }))[0].target);
    const alone = async (at: Point): Promise<Landing> => {
      const [m] = await model.match(a, b, [at], { transfer: false, local: false });
      return { from: toInput(at, a.size), to: toInput(m.target, b.size), probability: m.probability };
    };
    const q = toInput(p, a.size);
    const cells = transferCentres(q, gridOf(16), transferRadius);
    const landings = [await alone(p), ...(await Promise.all(cells.map((c) => alone(toOriginal(c, a.size)))))];
    const expected = toOriginal(transferredPoint(q, landings, transferExponent), b.size);
    expect(cells).toHaveLength(9);
    expect(transferred.target.x).toBeCloseTo(expected.x, 3);
    expect(transferred.target.y).toBeCloseTo(expected.y, 3);
    // The row, its peak and the heat map stay the point's own.
    expect(transferred.target).not.toEqual(toOriginal(landings[0].to, b.size));
    expect(transferred.probability).toBeCloseTo(landings[0].probability, 6);
  });

  it('answers every mode and scale it supports, on that mode’s grid', async () => {
    for (const [mode, scale, cells] of [
      ['mmnet', 1, 56 * 80],
      ['mmnet', 4, 7 * 10],
      ['fused', 2, 28 * 40],
      ['raw', 1, 14 * 20],
    ] as const) {
      const [m] = await model.match(a, b, [{ x: 64, y: 48 }], { mode, scale, heatmap: true });
      expect(m.heatmap!.data.length, `${mode} s${scale}`).toBe(cells);
    }
  });
});

describe('loading', () => {
  /** The real model, with one file of it replaced by `f`. */
  const tampered = (file: string, f: (r: Response) => Promise<Response>) => (url: string) =>
    fileFetch(url).then((r) => (url.endsWith(`/${file}`) ? f(r) : r));

  it('names a missing shard', async () => {
    const fetch = tampered('group1-shard3of18.bin', async () => new Response(null, { status: 404 }));
    await withoutLeaks(() =>
      expectError(loadMMNet(modelUrl(TEST_MODEL_DIR), { backend: 'wasm', fetch }), 'model-load', /group1-shard3of18\.bin: HTTP 404/),
    );
  });

  it('names a corrupted shard', async () => {
    const fetch = tampered('group1-shard7of18.bin', async (r) => {
      const bytes = new Uint8Array(await r.arrayBuffer());
      bytes[1234] ^= 0xff;
      return new Response(bytes);
    });
    await withoutLeaks(() =>
      expectError(loadMMNet(modelUrl(TEST_MODEL_DIR), { backend: 'wasm', fetch }), 'model-load', /group1-shard7of18\.bin: sha256 mismatch/),
    );
  });

  it('names an unreadable model.json', async () => {
    const fetch = tampered('model.json', async () => new Response('{"oops":'));
    await expectError(loadMMNet(modelUrl(TEST_MODEL_DIR), { backend: 'wasm', fetch }), 'model-load', /model\.json/);
  });

  it('reports progress up to the total size', async () => {
    const seen: number[] = [];
    const m = await loadMMNet(modelUrl(TEST_MODEL_DIR), {
      backend: 'wasm',
      fetch: fileFetch,
      onProgress: (p) => seen.push(p.loaded / p.total),
    });
    m.dispose();
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((v, k) => k === 0 || v >= seen[k - 1])).toBe(true);
  });
});
