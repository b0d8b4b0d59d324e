/** `npm run models` refuses bad sources with a message naming the file. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelJson } from '../../src/model/weights';
import { float32Npy, fromHalfBits, parseNpy } from './npy';
import { REPO_ROOT, SHARED_DIR, TEST_MODEL_DIR } from '../../src/model/testing/paths';

const run = promisify(execFile);
const TRUNK = join(SHARED_DIR, 'models', 'resnet_v2_101');
const temp = mkdtempSync(join(tmpdir(), 'mmnet-build-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A models folder mirroring the real trunk by symlinks, with `change` applied to one file. */
function modelsDir(name: string, change: (trunk: string) => void): string {
  const trunk = join(temp, name, 'resnet_v2_101');
  mkdirSync(trunk, { recursive: true });
  for (const f of readdirSync(TRUNK)) symlinkSync(join(TRUNK, f), join(trunk, f));
  change(trunk);
  return join(temp, name);
}

async function build(env: Record<string, string>, args: string[] = []): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'scripts/build/build-models.ts', '--out', join(temp, 'out'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, output: stdout + stderr };
  }
}

/** A float16 .npy of the given shape, all zeros. */
function npy(shape: number[]): Buffer {
  let header = `{'descr': '<f2', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  const prefix = Buffer.concat([
    Buffer.from('\x93NUMPY\x01\x00', 'latin1'),
    Buffer.from(Uint16Array.of(header.length).buffer),
    Buffer.from(header, 'latin1'),
  ]);
  return Buffer.concat([prefix, Buffer.alloc(2 * shape.reduce((a, b) => a * b, 1))]);
}

describe('npm run models', () => {
  it('names a missing trunk file', async () => {
    const dir = modelsDir('missing', (trunk) => rmSync(join(trunk, 'resnet_v2_101_block2_unit_3_bottleneck_v2_conv2_weights.npy')));
    const { code, output } = await build({ MMNET_MODELS_DIR: dir });
    expect(code).not.toBe(0);
    expect(output).toContain('resnet_v2_101_block2_unit_3_bottleneck_v2_conv2_weights.npy');
  });

  it('names a tensor with an unexpected shape', async () => {
    const file = 'resnet_v2_101_block1_unit_2_bottleneck_v2_conv3_weights.npy';
    const dir = modelsDir('shape', (trunk) => {
      rmSync(join(trunk, file));
      writeFileSync(join(trunk, file), npy([256, 1, 1, 32]));
    });
    const { code, output } = await build({ MMNET_MODELS_DIR: dir });
    expect(code).not.toBe(0);
    expect(output).toContain(file);
    expect(output).toMatch(/shape \[256,1,1,32\], expected \[256,1,1,64\]/);
  });
});

describe('npm run models --quantize', () => {
  it('rebuilds when the scheme changes, and only then', async () => {
    const out = ['--out', join(temp, 'schemes'), '--head', 'mmnet_head_v0'];
    const int8 = await build({}, [...out, '--quantize', 'int8']);
    expect(int8.code, int8.output).toBe(0);
    expect(int8.output).toMatch(/wrote .*int8/);
    expect((await build({}, [...out, '--quantize', 'int8'])).output).toMatch(/up to date/);
    const float16 = await build({}, [...out, '--quantize', 'float16']);
    expect(float16.output).toMatch(/wrote .*float16/);
    const model = JSON.parse(readFileSync(join(temp, 'schemes', 'model.json'), 'utf8')) as ModelJson;
    expect(model.metadata.quantization).toBe('float16');
  }, 600_000); // three builds: minutes on a busy 2-core machine

  it('refuses an unknown scheme, naming the valid ones', async () => {
    const { code, output } = await build({}, ['--quantize', 'uint8']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/--quantize must be float16, int8, int4, mixed, not uint8/);
  });
});

describe('npm run models with no local trunk', () => {
  it('downloads the float32 trunk from a mirror, verifies it, and builds the same model', async () => {
    // The mirror: the shared float16 trunk as float32 files, with a manifest of their sha256.
    const mirror = join(temp, 'mirror');
    mkdirSync(mirror);
    const files: Record<string, { sha256: string; bytes: number; shape: number[]; dtype: string }> = {};
    for (const name of readdirSync(TRUNK)) {
      const npy = parseNpy(readFileSync(join(TRUNK, name)), name);
      const bytes = float32Npy(fromHalfBits(npy.data as Uint16Array), npy.shape);
      writeFileSync(join(mirror, name), bytes);
      files[name] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, shape: npy.shape, dtype: 'float32' };
    }
    const manifest = join(temp, 'mirror.sources.json');
    writeFileSync(manifest, JSON.stringify({ candidate_base_urls: [], files }));

    const server = createServer((req, res) => {
      const path = join(mirror, decodeURIComponent(req.url!.slice(1).split('?')[0]));
      if (!existsSync(path)) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': statSync(path).size });
      res.end(readFileSync(path));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    const empty = join(temp, 'empty');
    mkdirSync(empty);
    try {
      const { code, output } = await build(
        {
          MMNET_MODELS_DIR: empty,
          MMNET_CACHE_DIR: join(temp, 'cache'),
          MMNET_TRUNK_URL: `http://127.0.0.1:${port}/`,
          MMNET_TRUNK_SOURCES: manifest,
        },
        ['--head', 'mmnet_head_v0', '--quantize', 'float16'],
      );
      expect(code, output).toBe(0);
      expect(output).toMatch(/248/);
    } finally {
      server.close();
    }
    // float32 → float16 gives back the shared bits: the shards equal the test model's, byte for byte.
    const shards = (dir: string) =>
      (JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson).metadata.shards.map((s) => s.sha256);
    expect(shards(join(temp, 'out'))).toEqual(shards(TEST_MODEL_DIR));
  });
});
