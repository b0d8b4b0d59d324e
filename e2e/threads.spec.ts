/**
 * Threaded SIMD wasm in the built site. `vite preview` sends the cross-origin isolation headers a host
 * should send; a host that cannot gets the service worker; a page that stays unisolated runs one thread.
 * Each case must give single-threaded wasm's matches for the same clicks.
 */
import type { Browser, Page } from '@playwright/test';
import { expect, staticHost, test, watchPage } from './fixtures';
import { expectSameReadings, readings, type Reading } from './gpu';

const ENCODE_TIMEOUT = 120_000;
// Two or three model loads per test, on a busy 2-core machine.
test.describe.configure({ timeout: 400_000 });

/** What single-threaded wasm answers; measured once. */
let singleThreaded: Reading[] | undefined;

async function singleThreadedReadings(page: Page): Promise<Reading[]> {
  if (!singleThreaded) {
    singleThreaded = await readings(page, '?backend=wasm&threads=1', ENCODE_TIMEOUT);
    await expect(page.getByTestId('wasm-mode')).toHaveText('SIMD (1 thread: one thread asked for)');
    // Single-threaded wasm's heap is not shared memory: the worker decodes every weight itself.
    expect(await decodedElsewhere(page)).toBe(0);
  }
  return singleThreaded;
}

/** How many weights the decoding helper (src/app/dequantizer.ts) decoded in the page's load. */
async function decodedElsewhere(page: Page): Promise<number> {
  const timings = await page.getByTestId('load').getAttribute('data-timings');
  return (JSON.parse(timings!) as { decodedElsewhere: number }).decodedElsewhere;
}

/** The threads the app should run: one per logical core, at most tfjs's pool of 8. */
async function expectThreaded(page: Page): Promise<number> {
  expect(await page.evaluate(() => crossOriginIsolated), 'cross-origin isolated').toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  expect(cores, 'threads need a machine with 2 or more logical cores').toBeGreaterThan(1);
  const threads = Math.min(cores, 8);
  await expect(page.getByTestId('status')).toHaveAttribute('data-threads', String(threads));
  await expect(page.getByTestId('wasm-mode')).toHaveText(`SIMD × ${threads} threads`);
  return threads;
}

test('the built site at its sub-path runs threaded SIMD wasm, with single-threaded answers', async ({ page }) => {
  const expected = await singleThreadedReadings(page);
  const wasmFiles: string[] = [];
  page.context().on('request', (r) => r.url().endsWith('.wasm') && wasmFiles.push(new URL(r.url()).pathname));
  let workers = 0;
  page.on('worker', () => workers++);
  const actual = await readings(page, '?backend=wasm', ENCODE_TIMEOUT);
  const threads = await expectThreaded(page);
  expect(wasmFiles).toEqual(['/demos/mmnet/tfjs-wasm/tfjs-backend-wasm-threaded-simd.wasm']);
  // The model's worker, its decoding helper and a pthread pool the size of the threads (Emscripten's own
  // would start 8, each instantiating the module).
  expect(workers).toBe(2 + threads);
  // The helper wrote the weights into the shared heap: the answers below are made with them.
  expect(await decodedElsewhere(page)).toBeGreaterThan(0);
  expectSameReadings(actual, expected, 'single-threaded wasm');
});

test.describe('on a host that sends no isolation headers', () => {
  let host: Awaited<ReturnType<typeof staticHost>>;
  let basePath: string;
  test.beforeAll(async () => {
    const metadata = test.info().config.metadata as { dist: string; basePath: string };
    basePath = metadata.basePath;
    host = await staticHost(metadata.dist, basePath);
  });
  test.afterAll(() => host.close());

  /** A page of the plain host, watched like every test's page. */
  async function plainPage(browser: Browser, run: (page: Page) => Promise<void>, init?: () => void) {
    const context = await browser.newContext({ baseURL: `${host.origin}${basePath}` });
    try {
      const page = await context.newPage();
      if (init) await page.addInitScript(init);
      const watch = watchPage(page, host.origin);
      expect((await context.request.get('./')).headers()['cross-origin-embedder-policy']).toBeUndefined();
      await run(page);
      watch.verify();
    } finally {
      await context.close();
    }
  }

  test('the service worker isolates the page', async ({ browser, page }) => {
    const expected = await singleThreadedReadings(page);
    await plainPage(browser, async (page) => {
      // The first visit registers the worker and reloads once (downloading the weights twice, hence the time).
      await page.goto('./?backend=wasm');
      await expect(page.locator('.app')).toHaveAttribute('data-model', 'ready', { timeout: 300_000 });
      await expectThreaded(page);
      // Later visits are isolated from the start.
      const actual = await readings(page, '?backend=wasm', ENCODE_TIMEOUT);
      await expectThreaded(page);
      const scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope);
      expect(scope).toBe(`${host.origin}${basePath}`);
      expectSameReadings(actual, expected, 'single-threaded wasm');
    });
  });

  test('without service workers (a private window), the page runs single-threaded wasm and says why', async ({ browser, page }) => {
    const expected = await singleThreadedReadings(page);
    const withoutServiceWorkers = () => void delete (Navigator.prototype as { serviceWorker?: unknown }).serviceWorker;
    await plainPage(
      browser,
      async (page) => {
        const actual = await readings(page, '?backend=wasm', ENCODE_TIMEOUT);
        expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
        await expect(page.getByTestId('wasm-mode')).toHaveText('SIMD (1 thread: page not cross-origin isolated)');
        expectSameReadings(actual, expected, 'single-threaded wasm');
      },
      withoutServiceWorkers,
    );
  });
});
