/**
 * The first screen: the page opens on an example pair with its pins matched and their arrows drawn, at the
 * four sizes of layout.spec.ts, and the example answers before the model's weights have arrived (its
 * features ship with the site). Screenshots: test-results/screenshots/first-screen-<size>.png.
 */
import type { Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { clickImage, dropFile, exampleFile, expect, screenshot, test, waitEncoded, watchPage } from './fixtures';

const SIZES = [
  { name: '1366x768', viewport: { width: 1366, height: 768 } },
  { name: '1920x1080', viewport: { width: 1920, height: 1080 } },
  { name: '390x844', viewport: { width: 390, height: 844 }, touch: true },
  { name: 'embed-960x560', viewport: { width: 960, height: 560 }, query: '?embed=1&backend=wasm' },
];

/** The pins the first example places (scripts/build/example-pairs.ts). */
const EXAMPLE_PINS = 4;

/**
 * Painted overlay pixels inside the target photo: arrows end there (arrowheads), while the example's pins
 * all sit on the source, so without arrows this is 0.
 */
async function arrowInkOnTarget(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=overlay]')!;
    const frame = document.querySelector('[data-frame=target]')!.getBoundingClientRect();
    const box = canvas.getBoundingClientRect();
    const k = canvas.width / box.width;
    const [x, y] = [Math.round((frame.left - box.left) * k), Math.round((frame.top - box.top) * k)];
    const [w, h] = [Math.round(frame.width * k), Math.round(frame.height * k)];
    const { data } = canvas.getContext('2d')!.getImageData(x, y, w, h);
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
    return ink;
  });
}

for (const { name, viewport, touch, query = '?backend=wasm' } of SIZES) {
  test(`at ${name} the page opens on an example, its pins matched and their arrows drawn`, async ({ browser, baseURL }) => {
    const context = await browser.newContext({ baseURL, viewport, isMobile: touch, hasTouch: touch, deviceScaleFactor: touch ? 2 : 1 });
    const page = await context.newPage();
    const watch = watchPage(page, new URL(baseURL!).origin);
    await page.goto(`./${query}`);
    await expect(page.getByTestId('photo')).toHaveCount(2);
    await expect(page.getByTestId('pane-source')).toContainText('Faces_easy-002.jpg');
    await expect(page.getByTestId('pane-target')).toContainText('Faces_easy-003.jpg');
    if (!query.includes('embed')) {
      await expect(page.getByTestId('pin')).toHaveCount(EXAMPLE_PINS);
      for (const pin of await page.getByTestId('pin').all()) await expect(pin).not.toHaveAttribute('data-match', '');
      await expect(page.getByText('Photo: Caltech-101').first()).toBeVisible();
      await expect(page.getByTestId('examples').getByRole('button')).toHaveCount(4);
      await expect(page.getByRole('button', { name: 'Example: Faces' })).toHaveAttribute('aria-pressed', 'true');
    }
    await expect.poll(() => arrowInkOnTarget(page), { message: 'arrows drawn onto the target' }).toBeGreaterThan(50);
    // Photos of at most 288 px are never shown larger than twice their size.
    for (const photo of await page.getByTestId('photo').all()) {
      const { width, natural } = await photo.evaluate((c: HTMLCanvasElement) => ({
        width: c.getBoundingClientRect().width,
        natural: c.width,
      }));
      expect(width).toBeLessThanOrEqual(2 * natural + 0.5);
    }
    await screenshot(page, `first-screen-${name}`);
    watch.verify();
    await context.close();
  });
}

test('the example answers before the weights arrive, and says what is still loading', async ({ page }) => {
  // Only the first shard arrives: the model cannot load, only the example's shipped features can answer.
  await page.route('**/models/**/group1-shard*', (route) => (route.request().url().includes('shard1of') ? route.continue() : undefined));
  await page.goto('./?backend=wasm');
  await expect(page.getByTestId('pin')).toHaveCount(EXAMPLE_PINS);
  for (const pin of await page.getByTestId('pin').all()) await expect(pin).not.toHaveAttribute('data-match', '');
  await expect(page.locator('.app')).toHaveAttribute('data-model', 'loading');
  await expect(page.getByTestId('download')).toContainText(/Downloading the model: [\d.]+ of [\d.]+ MB.*saved for the next visit/);

  // A click on the example is answered too, by the same features.
  const box = (await page.locator('[data-frame=source]').boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.4);
  await expect(page.getByTestId('pin')).toHaveCount(EXAMPLE_PINS + 1);
  await expect(page.getByTestId('pin').last()).not.toHaveAttribute('data-match', '');

  // A photo of one's own needs the model: a pin on it waits, and the hint says so.
  await page.getByTestId('file-target').setInputFiles({ name: 'own.png', mimeType: 'image/png', buffer: greenPng() });
  await expect(page.getByTestId('pane-target')).toContainText('own.png');
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.3);
  await expect(page.getByTestId('hint')).toContainText('Pin placed: it is matched as soon as the target photo is encoded.');
  await screenshot(page, 'first-screen-waiting');
});

/** Holds the requests that `url` matches until the returned function is called. */
async function hold(page: Page, url: string | RegExp, only: (url: string) => boolean = () => true): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((done) => (release = done));
  await page.route(url, async (route) => {
    if (only(route.request().url())) await held;
    await route.continue();
  });
  return release;
}

/** The model's last shard: the head's weights. */
const holdHeadShard = (page: Page) => hold(page, '**/models/**/group1-shard*', (url) => /shard(\d+)of\1\.bin$/.test(url));
/** The worker's main chunk (tfjs, the model); not its small entry (worker-entry-*.js). */
const holdWorkerCode = (page: Page) => hold(page, /\/assets\/worker-(?!entry-)[^/]*\.js$/);

/** Opens the app on empty panes and drops two motorbikes on them. */
async function dropMotorbikes(page: Page) {
  await page.goto('./?backend=wasm&example=none');
  const photos = await Promise.all(['Motorbikes-000.jpg', 'Motorbikes-002.jpg'].map((name) => exampleFile(page, name)));
  await dropFile(page, 'source', photos[0]);
  await dropFile(page, 'target', photos[1]);
}

/** Both panes' trunks have run; their heads wait for the rest of the model. */
async function expectTrunksRun(page: Page) {
  for (const side of ['source', 'target']) {
    await expect(page.getByTestId(`pane-${side}`).locator('.busy')).toHaveText('Encoding… waiting for the rest of the model');
  }
}

/** The photos encoded, a click on the source is answered. */
async function expectMatched(page: Page) {
  await waitEncoded(page);
  await clickImage(page, 'source', 136, 74, { width: 272 });
  await expect(page.getByTestId('pin')).toHaveCount(1);
  await expect(page.getByTestId('pin')).not.toHaveAttribute('data-match', '');
}

test("photos dropped before the model run their trunk while the head's weights download, then are matched", async ({ page }) => {
  // The head's weights wait until both trunks have run, so the staged encode is seen, not raced.
  const releaseHead = await holdHeadShard(page);
  await dropMotorbikes(page);
  await expectTrunksRun(page);
  await expect(page.locator('.app')).toHaveAttribute('data-model', 'loading');
  await screenshot(page, 'first-screen-staged-encode');
  releaseHead();
  await expectMatched(page);
});

test("photos dropped before the worker's own code has arrived run their trunk too, once it has", async ({ page }) => {
  // The worker's main chunk waits until both photos are dropped: the entry then hands it the load and both
  // encodes at once (`takeOver`), and the encodes find the load still queued.
  const releaseCode = await holdWorkerCode(page);
  const releaseHead = await holdHeadShard(page);
  await dropMotorbikes(page);
  await expect(page.getByTestId('pane-target').locator('.busy')).toHaveText('Waiting for the model…');
  releaseCode();
  await expectTrunksRun(page);
  releaseHead();
  await expectMatched(page);
});

test("the model's download starts before the worker's own code (tfjs, the model) has arrived", async ({ page }) => {
  // The worker's small entry is not held, and must be fetching the weights.
  const release = await holdWorkerCode(page);
  const shards: string[] = [];
  page.context().on('request', (r) => {
    if (r.url().endsWith('.bin')) shards.push(r.url());
  });
  await page.goto('./?backend=wasm&example=none');
  await expect.poll(() => shards.length, { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(page.locator('.app')).toHaveAttribute('data-model', 'loading');
  release();
  await expect(page.locator('.app')).toHaveAttribute('data-model', 'ready', { timeout: 90_000 });
});

test('the example answers clicks on the backend that is ready at once, while the fast one has not started', async ({ page }) => {
  // The wasm binaries never arrive: only the cpu backend the worker starts first can read the features.
  await page.route('**/tfjs-wasm/*.wasm', () => undefined);
  await page.goto('./?backend=wasm');
  await expect(page.getByTestId('pin')).toHaveCount(EXAMPLE_PINS);
  const box = (await page.locator('[data-frame=source]').boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.4);
  await expect(page.getByTestId('pin')).toHaveCount(EXAMPLE_PINS + 1);
  await expect(page.getByTestId('pin').last()).not.toHaveAttribute('data-match', '');
  await expect(page.getByTestId('status')).not.toHaveAttribute('data-backend', /./);
});

test("the example's first arrows are drawn before the model's worker has started or the features arrived", async ({ page }) => {
  // Neither the worker nor the features ever arrive: the arrows come from the matches built with the site.
  await page.route('**/assets/worker-*.js', () => undefined);
  await page.route('**/*.features', () => undefined);
  await page.goto('./?backend=wasm');
  await expect(page.getByTestId('pin')).toHaveCount(EXAMPLE_PINS);
  await expect(page.getByTestId('photo')).toHaveCount(2);
  for (const pin of await page.getByTestId('pin').all()) await expect(pin).not.toHaveAttribute('data-match', '');
  await expect.poll(() => arrowInkOnTarget(page)).toBeGreaterThan(0);
});

/** A plain 64×48 PNG, as a photo of one's own. */
function greenPng(): Buffer {
  const png = new PNG({ width: 64, height: 48 });
  for (let i = 0; i < png.data.length; i += 4) png.data.set([60, 170, 120, 255], i);
  return PNG.sync.write(png);
}

test('where the host blocks the worker threads, wasm runs on one thread within 10 s and says so', async ({ page }) => {
  // A policy on the model worker that allows no blob: workers, which threaded wasm starts its pool from.
  await page.route('**/assets/worker-*.js', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': "worker-src 'self'" } });
  });
  const start = Date.now();
  await page.goto('./?backend=wasm&example=none');
  await expect(page.getByTestId('wasm-mode')).toContainText('1 thread: threads blocked here', { timeout: 30_000 });
  expect(Date.now() - start).toBeLessThan(15_000);
  await expect(page.getByRole('alert').or(page.getByRole('status')).filter({ hasText: 'runs on one thread' }).first()).toBeVisible();
  await expect(page.locator('.app')).toHaveAttribute('data-model', 'ready', { timeout: 90_000 });
});
