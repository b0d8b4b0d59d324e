/**
 * The library as a package. `npm pack` (whose prepack builds lib/) is installed into a fresh Vite +
 * TypeScript app (e2e/package-consumer/) from the npm cache, type-checked against the packed types, built,
 * hosted with the built model beside it, and asked in chromium to match a photo against itself and against
 * a copy shifted by a known offset. Node imports it too.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { MODEL_NAME } from '../src/model/constants';
import type { Match, Point } from '../src/model/types';
import { REPO_ROOT } from '../src/model/testing/paths';
import { expect, shiftedPair, staticHost, test, watchPage } from './fixtures';

const CONSUMER = join(REPO_ROOT, 'e2e/package-consumer');
const WASM_DIST = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
// The same photo, offset and point as e2e/app.spec.ts: a textured point on the car, away from the border.
const EXAMPLE = 'car_side-000.jpg';
const SHIFT = { x: 24, y: 16 };
const POINT = { x: 150, y: 110 };
/** Half a stride-16 cell: the match lands in the right cell and is refined within it. */
const TOLERANCE_PX = 8;

test.describe.configure({ mode: 'serial' });

let app: string;
let packedFiles: string[];
let host: Awaited<ReturnType<typeof staticHost>>;

/** Runs a command, failing with its output. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const { stdout, stderr } = e as { stdout: string; stderr: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: e });
  }
}

const tool = (bin: string) => join(REPO_ROOT, 'node_modules', bin);

test.beforeAll(async () => {
  test.setTimeout(300_000);
  app = mkdtempSync(join(tmpdir(), 'mmnet-consumer-'));
  cpSync(CONSUMER, app, { recursive: true });
  // prepack's own output comes before npm's JSON.
  const packOutput = run('npm', ['pack', '--json', '--pack-destination', app], REPO_ROOT);
  const [packed] = JSON.parse(packOutput.slice(packOutput.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed.files.map((f) => f.path);
  // The tfjs peer dependencies come with it; the cache serves them without the network where it holds them.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(app, packed.filename)], app);
  // What the docs tell a consumer to host: tfjs-backend-wasm's binaries, in a folder `wasmPaths` names.
  const wasmDist = join(app, WASM_DIST);
  for (const file of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm')))
    cpSync(join(wasmDist, file), join(app, 'public/tfjs-wasm', file));
  // The toolchain is the checkout's; every import of the app resolves in the app's own node_modules.
  run(process.execPath, [tool('typescript/bin/tsc'), '-p', app], app);
  run(process.execPath, [tool('vite/bin/vite.js'), 'build', '--logLevel', 'warn'], app);
  const site = join(app, 'dist');
  cpSync(join(REPO_ROOT, 'public/models', MODEL_NAME), join(site, 'models', MODEL_NAME), { recursive: true });
  cpSync(join(REPO_ROOT, 'public/examples', EXAMPLE), join(site, 'examples', EXAMPLE));
  host = await staticHost(site, '/');
});

test.afterAll(async () => {
  await host?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

test('the tarball holds the built library with its types, and no model files', () => {
  expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'lib/index.js', 'lib/index.d.ts', 'lib/kernels/index.js']));
  const unexpected = packedFiles.filter((f) => !/^(package\.json|README\.md|LICENSE)$|^lib\/.*\.(js|d\.ts)$/.test(f));
  expect(unexpected).toEqual([]);
  expect(packedFiles.filter((f) => /\.test\.|\/testing\/|\/node\//.test(f))).toEqual([]);
});

test("Node's ESM loader imports the package (every relative import names its file)", () => {
  const script = "import('mmnet-web').then((m) => console.log(m.MODEL_NAME, typeof m.loadMMNet))";
  expect(run(process.execPath, ['--input-type=module', '-e', script], app).trim()).toBe(`${MODEL_NAME} function`);
});

test('the app built on the package matches a photo against itself and a shifted copy', async ({ browser }) => {
  test.setTimeout(180_000);
  const page = await browser.newPage({ baseURL: `${host.origin}/` });
  const watch = watchPage(page, host.origin);
  await page.goto('./');
  await expect(page.locator('body[data-backend], body[data-error]')).toHaveCount(1, { timeout: 120_000 });
  expect(await page.locator('body').getAttribute('data-error')).toBeNull();
  await expect(page.locator('body')).toHaveAttribute('data-backend', 'wasm');

  const [photo, shifted] = (await shiftedPair(page, EXAMPLE, SHIFT.x, SHIFT.y)).map((f) => `data:${f.type};base64,${f.base64}`);
  const [itself] = await matchPair(page, photo, photo, POINT);
  const [moved] = await matchPair(page, photo, shifted, POINT);
  expect(distance(itself.target, POINT)).toBeLessThan(TOLERANCE_PX);
  expect(distance(moved.target, { x: POINT.x + SHIFT.x, y: POINT.y + SHIFT.y })).toBeLessThan(TOLERANCE_PX);
  expect(moved.probability).toBeGreaterThan(0);
  watch.verify();
  await page.close();
});

async function matchPair(page: Page, source: string, target: string, point: Point): Promise<Match[]> {
  type WithMatchPair = { matchPair: (s: string, t: string, p: Point[]) => Promise<Match[]> };
  return page.evaluate(({ source, target, point }) => (window as unknown as WithMatchPair).matchPair(source, target, [point]), {
    source,
    target,
    point,
  });
}

const distance = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
