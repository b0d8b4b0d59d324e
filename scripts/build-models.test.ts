/** `npm run models` refuses bad sources with a message naming the file. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DIR } from './paths';

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

async function build(env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'scripts/build-models.ts', '--out', join(temp, 'out')], {
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
  const prefix = Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.from(Uint16Array.of(header.length).buffer), Buffer.from(header, 'latin1')]);
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
