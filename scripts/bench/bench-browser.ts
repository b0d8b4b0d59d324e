/**
 * Browser benchmark of the built app (run `npm run build` first; `npm run bench:browser` does): for each
 * backend headless chromium offers here, model load, encode per image, click → match latency, and the JS
 * heap and tf.memory() after a series of image loads. Drives the real app (worker, UI) through Playwright.
 * Then time to first match (TTFM) on the default backend, as a visitor gets it: the page opened (on empty
 * panes, `?example=none`), the model ready, two photos dropped, a click, the arrow drawn; for a first visit
 * (a new browser context: empty caches) and a return visit (a reload: weights from Cache Storage),
 * unthrottled and at 50 Mbit/s, with where the model load's time went; and at 50 Mbit/s for a visitor who drops
 * both photos as soon as the app shows its panes, before the model is ready (`ttfm_first_early_ms`,
 * `ttfm_return_early_ms`: the staged encode runs their trunks while the head downloads). And the example's TTFM: a first
 * visit at 50 Mbit/s, navigation → every arrow of the example the page opens on drawn (its first matches and
 * its features ship with the site: no model needed), by the page's first view (src/app/first-paint/) where
 * it has one, and by the app itself (`ttfm_example_app_ms`); then a click on the example, placed as soon as
 * the app's arrows show, answered by the page's own matching of the shipped features (`ttfm_example_click_ms`). Then the gallery on wasm (scripts/bench/bench-gallery.ts): encode throughput
 * of `--gallery` targets dropped at once, and the time to re-match all of them × 5 pins after a pin moves.
 *
 *   npm run bench:browser [-- --backends wasm,webgl,webgpu --loads 10 --gallery 20]
 *
 * Last line: `encode_ms=<v> match_ms=<v> first_click_ms=<v> click_wall_ms=<v> backend=<name> ttfm_first_ms=<v> ttfm_return_ms=<v>
 * ttfm_example_ms=<v> ttfm_example_click_ms=<v> ttfm_example_app_ms=<v> ttfm_first_early_ms=<v> ttfm_return_early_ms=<v>` for the
 * backend the app picks by default (TTFM unthrottled, the example's and the early drops' at 50 Mbit/s). match_ms is what a click costs in the worker: the
 * match, its heat map and the backward check. first_click_ms is the series' first click on its pair, from the mouse to
 * its arrow drawn (the pair's one-off work is done by then, or waited for). click_wall_ms is the slowest of the series' clicks after the first, from
 * the mouse to its arrow drawn: the first click's answer starts the encodes of both images' mirrors (the app's mirror
 * rule) in the background, and the next clicks come meanwhile.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import type { LoadTimings } from '../../src/model/types';
import { EXAMPLES, measureGallery } from './bench-gallery';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm,webgl,webgpu' },
    loads: { type: 'string', default: '10' },
    gallery: { type: 'string', default: '20' },
    port: { type: 'string', default: '4189' },
    dist: { type: 'string', default: 'dist' },
  },
});
const BASE = `http://127.0.0.1:${values.port}/bench/`;
/**
 * Software GPUs need minutes per encode: there the same photo goes into both panes (the app encodes it
 * once) and two clicks are timed (the first compiles shaders); the full series runs on wasm and cpu.
 */
const GPU_LOADS = 2;
const CLICKS = 5;
const GPU_CLICKS = 2;
const isGpu = (backend: string) => backend === 'webgl' || backend === 'webgpu';
/** 50 Mbit/s both ways, 20 ms latency (DevTools protocol units: bytes/s, ms). */
const THROTTLED = { offline: false, latency: 20, downloadThroughput: 50e6 / 8, uploadThroughput: 50e6 / 8 };
/** The TTFM pair and the click, in the source's width and height. */
const TTFM_PAIR = ['Motorbikes-000.jpg', 'Motorbikes-002.jpg'];
const TTFM_CLICK = { x: 0.5, y: 0.5 };

interface Result {
  backend: string;
  /** The backend as the status bar describes it (wasm: SIMD, threads). */
  label: string;
  loadMs: number;
  /** A reload: the weights come from Cache Storage. */
  cachedLoadMs: number;
  encodeMs: number;
  matchMs: number;
  /** The first click on the pair, from the mouse to its arrow. */
  firstClickWallMs: number;
  /**
   * The slowest click after the first, from the mouse to its arrow: the first click's answer starts the
   * background encodes of both images' mirrors (the app's mirror rule), and these clicks come meanwhile.
   */
  clickWallMs: number;
  loads: number;
  heapMiB: number;
  /** Tensors after the first pair, and after all loads: equal when nothing leaks. */
  tensorsAfterPair: number;
  tensors: number;
  tensorMiB: number;
  /** Why matching failed on this backend, if it did. */
  failure?: string;
}

/** Time to first match of one visit, and where the model load's time went. */
interface FirstMatch {
  visit: 'first' | 'return';
  throttled: boolean;
  /** The photos were dropped as soon as the app showed its panes, not once the model was ready. */
  early: boolean;
  backend: string;
  /** Page opened → arrow drawn. */
  totalMs: number;
  /** Page opened → model ready. */
  readyMs: number;
  /** The worker's loadMMNet (the rest of readyMs is the page and the worker starting). */
  loadMs: number;
  timings: LoadTimings;
}

// Node runs vite directly (not through npx) so that killing the server leaves no process behind.
const vite = [
  'node_modules/vite/bin/vite.js',
  'preview',
  '--outDir',
  values.dist,
  '--base',
  '/bench/',
  '--port',
  values.port,
  '--strictPort',
  '--host',
  '127.0.0.1',
];
const server = spawn(process.execPath, vite, { stdio: 'ignore' });
try {
  await waitForServer();
  const defaultBackend = await measureDefault();
  const results: Result[] = [];
  for (const backend of values.backends.split(',')) {
    const loads = isGpu(backend) ? GPU_LOADS : Number(values.loads);
    results.push(await measure(backend, loads));
    // wasm side by side with its single-threaded self (threads need a cross-origin isolated page).
    if (backend === 'wasm') results.push(await measure(backend, loads, '&threads=1'));
    console.error(`${backend} done`);
  }
  console.log(
    '| backend | model load ms (first visit → cached) | encode ms / image | click → match ms | first click / slowest later click, mouse → arrow ms | image loads | JS heap MiB (page) | tensors after 2 → all loads | tensor MiB |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const row = [
      r.label,
      `${r.loadMs.toFixed(0)} → ${r.cachedLoadMs.toFixed(0)}`,
      r.encodeMs.toFixed(0),
      r.matchMs.toFixed(1),
      `${r.firstClickWallMs.toFixed(0)} / ${r.clickWallMs.toFixed(0)}`,
      r.loads,
      r.heapMiB.toFixed(1),
      `${r.tensorsAfterPair} → ${r.tensors}`,
      r.tensorMiB.toFixed(1),
    ];
    console.log(`| ${row.join(' | ')} |`);
  }
  for (const r of results.filter((r) => r.failure)) console.log(`${r.backend}: ${r.failure}`);
  console.log(`default backend (no ?backend): ${defaultBackend}`);
  const d = results.find((r) => r.backend === defaultBackend) ?? (await measure(defaultBackend, GPU_LOADS));
  const ttfm = [...(await measureFirstMatch(false)), ...(await measureFirstMatch(true)), ...(await measureFirstMatch(true, true))];
  const example = await measureExampleFirstMatch();
  console.log('');
  console.log(
    `the example, first visit at 50 Mbit/s (default backend): its arrows ${example.arrowsMs.toFixed(0)} ms ` +
      `(the app's own ${example.appArrowsMs.toFixed(0)} ms), ` +
      `a click on it answered ${example.clickMs.toFixed(0)} ms after navigation`,
  );
  console.log('');
  console.log(
    '| time to first match (default backend) | TTFM ms | model ready ms | page + worker start | load: backend | fetch + verify | sha256 (summed) | decode | cache write wait | after ready: 2 drops, encodes, click, arrow |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const t of ttfm) {
    const { backendMs, fetchMs, hashMs, decodeMs, cacheWriteMs } = t.timings;
    const row = [
      `${t.visit} visit, ${t.throttled ? '50 Mbit/s' : 'unthrottled'}${t.early ? ', photos dropped at once' : ''} (${t.backend})`,
      t.totalMs,
      t.readyMs,
      t.readyMs - t.loadMs,
      backendMs,
      fetchMs,
      hashMs,
      decodeMs,
      cacheWriteMs,
      t.totalMs - t.readyMs,
    ];
    console.log(`| ${row.map((v) => (typeof v === 'number' ? v.toFixed(0) : v)).join(' | ')} |`);
  }
  const galleryBrowser = await launch(false);
  try {
    const g = await measureGallery(galleryBrowser, BASE, 'wasm', Number(values.gallery), 5);
    console.log('');
    console.log(
      `gallery (${g.backend}, ${g.targets} targets × ${g.pins} pins): encode ${g.imagesPerSecond.toFixed(2)} images/s; after a pin moves, ` +
        `re-match ${g.rematchWorkerMs.toFixed(1)} ms in the worker, ${g.rematchPageMs.toFixed(1)} ms key → markers drawn`,
    );
  } finally {
    await galleryBrowser.close();
  }
  const ttfmOf = (visit: FirstMatch['visit'], early = false) =>
    ttfm.find((t) => t.visit === visit && (early ? t.early : !t.throttled))!.totalMs.toFixed(0);
  console.log(
    `encode_ms=${d.encodeMs.toFixed(0)} match_ms=${d.matchMs.toFixed(1)} first_click_ms=${d.firstClickWallMs.toFixed(0)} click_wall_ms=${d.clickWallMs.toFixed(0)} backend=${d.backend} ttfm_first_ms=${ttfmOf('first')} ttfm_return_ms=${ttfmOf('return')} ttfm_example_ms=${example.arrowsMs.toFixed(0)} ttfm_example_click_ms=${example.clickMs.toFixed(0)} ttfm_example_app_ms=${example.appArrowsMs.toFixed(0)} ttfm_first_early_ms=${ttfmOf('first', true)} ttfm_return_early_ms=${ttfmOf('return', true)}`,
  );
} finally {
  server.kill();
}

async function waitForServer() {
  for (let k = 0; k < 100; k++) {
    if (
      await fetch(BASE).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(200);
  }
  throw new Error(`vite preview did not start on ${BASE}`);
}

async function launch(webgpu: boolean) {
  const args = [
    '--no-sandbox',
    '--disable-quic',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--enable-precise-memory-info',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium', args });
}

/** Which backend the app picks with no URL parameter (as a visitor gets it; no WebGPU flag). */
async function measureDefault(): Promise<string> {
  const browser = await launch(false);
  try {
    const page = await browser.newPage();
    await page.goto(BASE);
    await page.waitForSelector('[data-model=ready]', { timeout: 120_000 });
    return (await page.getByTestId('status').getAttribute('data-backend'))!;
  } finally {
    await browser.close();
  }
}

/** `options`: more of the page's URL options (e.g. `&threads=1`). */
async function measure(backend: string, loads: number, options = ''): Promise<Result> {
  const gpu = isGpu(backend);
  const browser = await launch(backend === 'webgpu');
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${BASE}?backend=${backend}${options}&example=none`);
    await page.waitForSelector('[data-model=ready]', { timeout: 120_000 });
    if ((await page.getByTestId('status').getAttribute('data-backend')) !== backend) throw new Error(`${backend} is not available here`);
    const mode = page.getByTestId('wasm-mode');
    const label = (await mode.count()) ? `${backend} ${(await mode.textContent())!.trim()}` : backend;
    const loadMs = await msOf(page, 'load');
    await page.reload();
    await page.waitForSelector('[data-testid=load][data-from-cache=true]', { timeout: 120_000, state: 'attached' });
    const cachedLoadMs = await msOf(page, 'load');

    const encodes: number[] = [];
    let tensorsAfterPair = NaN;
    for (let k = 0; k < loads; k++) {
      const side = k % 2 === 0 ? 'source' : 'target';
      const example = EXAMPLES[gpu ? 0 : k % EXAMPLES.length];
      await drop(page, side, example);
      await page.getByTestId(`pane-${side}`).getByText(example).waitFor();
      await page.waitForSelector(`[data-testid=encode-${side}]:not([data-ms=""])`, { timeout: 900_000, state: 'attached' });
      if (!gpu || k === 0) encodes.push(await msOf(page, `encode-${side}`));
      if (k === 1) tensorsAfterPair = await tensorCount(page);
    }

    const frame = (await page.locator('[data-frame=source]').boundingBox())!;
    const matches: number[] = [];
    const walls: number[] = [];
    let failure: string | undefined;
    for (let k = 0; k < (gpu ? GPU_CLICKS : CLICKS) && !failure; k++) {
      const before = await page.getByTestId('pin').count();
      const clicked = performance.now();
      await page.mouse.click(frame.x + frame.width * (0.2 + 0.15 * k), frame.y + frame.height * 0.5);
      const answered = page.getByTestId('pin').nth(before).and(page.locator(':not([data-match=""])'));
      const failed = page.getByRole('alert').filter({ hasText: 'Matching failed' });
      await answered.or(failed).first().waitFor({ timeout: 600_000 });
      if (await failed.count()) failure = (await failed.first().locator('span').textContent())!;
      else {
        await nextFrames(page);
        walls.push(performance.now() - clicked);
        matches.push(await msOf(page, 'shown-mode'));
      }
    }

    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
    return {
      backend,
      label,
      loadMs,
      cachedLoadMs,
      encodeMs: median(encodes),
      matchMs: failure ? NaN : gpu ? matches[matches.length - 1] : median(matches),
      firstClickWallMs: failure ? NaN : walls[0],
      clickWallMs: failure ? NaN : Math.max(...walls.slice(1)),
      failure,
      loads,
      heapMiB: heap / 2 ** 20,
      tensorsAfterPair,
      tensors: await tensorCount(page),
      tensorMiB: Number(await page.getByTestId('memory').getAttribute('data-bytes')) / 2 ** 20,
    };
  } finally {
    await browser.close();
  }
}

/**
 * TTFM of a first visit (a new context: nothing cached), then of a return visit (a reload), with the app
 * choosing its backend; `throttled`: through the DevTools protocol, at `THROTTLED`; `early`: the photos
 * dropped as soon as the app shows its panes (the page opened up to its first bytes), not once the model is ready.
 */
async function measureFirstMatch(throttled: boolean, early = false): Promise<FirstMatch[]> {
  const browser = await launch(false);
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    if (throttled) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', THROTTLED);
    }
    const waitUntil = early ? 'commit' : 'load';
    const first = await firstMatch(page, () => page.goto(`${BASE}?example=none`, { waitUntil }), early);
    const back = await firstMatch(page, () => page.reload({ waitUntil }), early);
    console.error(`TTFM ${throttled ? 'throttled' : 'unthrottled'}${early ? ', early drops' : ''} done`);
    return [
      { visit: 'first', throttled, early, ...first },
      { visit: 'return', throttled, early, ...back },
    ];
  } finally {
    await browser.close();
  }
}

/**
 * A first visit at `THROTTLED`: navigation → every pin of the example the page opens on answered and drawn;
 * then a click on the example's source, answered by the page's own matching.
 */
async function measureExampleFirstMatch(): Promise<{ arrowsMs: number; appArrowsMs: number; clickMs: number }> {
  const browser = await launch(false);
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', THROTTLED);
    const start = performance.now();
    await page.goto(BASE, { waitUntil: 'commit' });
    // The page's first view (src/app/first-paint/) draws its photos and arrows in one task: the frame
    // this poll runs in paints them. The app draws its arrows on the frame after its answers (`nextFrames`).
    const first = await page.waitForFunction(
      () => {
        if (document.querySelector('[data-testid=first-paint][data-drawn]')) return 'first-paint';
        return appAnswered() && 'app';
        function appAnswered() {
          const pins = [...document.querySelectorAll('[data-testid=pin]')];
          return pins.length > 0 && pins.every((pin) => pin.getAttribute('data-match'));
        }
      },
      undefined,
      { timeout: 300_000, polling: 'raf' },
    );
    if ((await first.jsonValue()) === 'app') await nextFrames(page);
    const arrowsMs = performance.now() - start;
    await appArrows(page);
    const appArrowsMs = performance.now() - start;
    const frame = (await page.locator('[data-frame=source]').boundingBox())!;
    const before = await page.getByTestId('pin').count();
    await page.mouse.click(frame.x + frame.width * TTFM_CLICK.x, frame.y + frame.height * TTFM_CLICK.y);
    await page.waitForFunction(
      (n) => {
        const pin = document.querySelectorAll('[data-testid=pin]')[n];
        return pin !== undefined && pin.getAttribute('data-match') !== '';
      },
      before,
      { timeout: 300_000, polling: 'raf' },
    );
    await nextFrames(page);
    const clickMs = performance.now() - start;
    console.error('TTFM example done');
    return { arrowsMs, appArrowsMs, clickMs };
  } finally {
    await browser.close();
  }
}

/** Every pin of the example answered in the app and drawn by its overlay. */
async function appArrows(page: Page) {
  await page.waitForFunction(
    () => {
      const pins = [...document.querySelectorAll('[data-testid=pin]')];
      return pins.length > 0 && pins.every((pin) => pin.getAttribute('data-match'));
    },
    undefined,
    { timeout: 300_000, polling: 'raf' },
  );
  await nextFrames(page);
}

/**
 * Waits for `selector` to match, checking on every animation frame: Playwright's own waits poll at growing
 * intervals (up to 1 s) once the page is busy, which the timings would count as the app's.
 */
async function shown(page: Page, selector: string) {
  await page.waitForFunction((s) => document.querySelector(s) !== null, selector, { timeout: 300_000, polling: 'raf' });
}

/** The overlay draws arrows on the next animation frame after the answers. */
async function nextFrames(page: Page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

async function firstMatch(
  page: Page,
  open: () => Promise<unknown>,
  early: boolean,
): Promise<Omit<FirstMatch, 'visit' | 'throttled' | 'early'>> {
  const start = performance.now();
  await open();
  const modelReady = async () => {
    await shown(page, '[data-model=ready]');
    return performance.now() - start;
  };
  // Dropping early, the model gets ready while the photos wait: watched meanwhile.
  const ready = modelReady();
  if (early) await page.getByTestId('pane-target').waitFor({ timeout: 300_000 });
  else await ready;
  await drop(page, 'source', TTFM_PAIR[0]);
  await drop(page, 'target', TTFM_PAIR[1]);
  for (const side of ['source', 'target']) await shown(page, `[data-testid=encode-${side}]:not([data-ms=""])`);
  const frame = (await page.locator('[data-frame=source]').boundingBox())!;
  await page.mouse.click(frame.x + frame.width * TTFM_CLICK.x, frame.y + frame.height * TTFM_CLICK.y);
  await shown(page, '[data-testid=pin]:not([data-match=""])');
  await nextFrames(page);
  const totalMs = performance.now() - start;
  const load = page.getByTestId('load');
  return {
    backend: (await page.getByTestId('status').getAttribute('data-backend'))!,
    totalMs,
    readyMs: await ready,
    loadMs: Number(await load.getAttribute('data-ms')),
    timings: JSON.parse((await load.getAttribute('data-timings'))!) as LoadTimings,
  };
}

/** Drops one of the example photos on a pane, its bytes read here (a visitor's photo is no download). */
async function drop(page: Page, side: string, example: string) {
  const base64 = (await readFile(`${values.dist}/examples/${example}`)).toString('base64');
  await page.getByTestId(`pane-${side}`).evaluate(
    (pane, { example, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], example, { type: 'image/jpeg' }));
      pane.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    { example, base64 },
  );
}

async function tensorCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('memory').getAttribute('data-tensors'));
}

async function msOf(page: Page, testId: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute('data-ms'));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
