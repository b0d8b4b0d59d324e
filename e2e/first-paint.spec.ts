/**
 * The page's first view (src/app/first-paint/): the example's photos and build-time arrows drawn before the
 * app's chunk has run, at the places where the app then shows them, and replaced by the app. The app's
 * chunk is held back here until the first view has been looked at. Screenshots:
 * test-results/screenshots/first-paint-<size>-before.png (the first view alone) and -after.png (the app).
 */
import type { Locator, Page } from '@playwright/test';
import { expect, screenshot, test } from './fixtures';

const APP_CHUNK = '**/assets/start-*.js';

/** Holds the app's chunk back until `release`. */
async function holdApp(page: Page) {
  let release!: () => void;
  const released = new Promise<void>((done) => (release = done));
  await page.route(APP_CHUNK, async (route) => {
    await released;
    await route.continue();
  });
  return { release };
}

/** Painted pixels of `canvas` inside `frame`: the arrows end on the target, where no pin of the example sits. */
async function inkInside(canvas: Locator, frame: Locator): Promise<number> {
  const box = (await frame.boundingBox())!;
  return canvas.evaluate((c: HTMLCanvasElement, f) => {
    const rect = c.getBoundingClientRect();
    const k = c.width / rect.width;
    const [x, y] = [Math.round((f.x - rect.left) * k), Math.round((f.y - rect.top) * k)];
    const { data } = c.getContext('2d')!.getImageData(x, y, Math.round(f.width * k), Math.round(f.height * k));
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
    return ink;
  }, box);
}

const boxes = (frames: Locator) =>
  frames.evaluateAll((elements) =>
    elements.map((e) => {
      const r = e.getBoundingClientRect();
      return [r.x, r.y, r.width, r.height];
    }),
  );

for (const viewport of [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
]) {
  const size = `${viewport.width}x${viewport.height}`;
  test(`at ${size} the example's photos and arrows show before the app runs, where the app then shows them`, async ({ page }) => {
    await page.setViewportSize(viewport);
    const app = await holdApp(page);
    await page.goto('./?backend=wasm');
    const view = page.getByTestId('first-paint');
    await expect(view).toHaveAttribute('data-drawn', 'true');
    await expect(view).toBeVisible();
    await expect(page.locator('#root'), 'the app has not run').toBeEmpty();
    await expect(view).toContainText('Faces_easy-002.jpg');
    await expect(view).toContainText('Faces_easy-003.jpg');
    const firstFrames = view.locator('.frame');
    expect(await inkInside(view.locator('canvas'), firstFrames.nth(1)), 'arrows drawn onto the target').toBeGreaterThan(50);
    const before = await boxes(firstFrames);
    await screenshot(page, `first-paint-${size}-before`);

    app.release();
    await expect(view, 'the app takes over').toHaveCount(0);
    await expect(page.getByTestId('photo')).toHaveCount(2);
    const after = await boxes(page.locator('[data-frame]'));
    expect(after).toHaveLength(2);
    after.flat().forEach((v, k) => expect(v, 'the photos stay where they were').toBeCloseTo(before.flat()[k], 0));
    expect(await inkInside(page.getByTestId('overlay'), page.locator('[data-frame=target]'))).toBeGreaterThan(50);
    await screenshot(page, `first-paint-${size}-after`);
  });
}

for (const [what, query] of [
  ['on empty panes', '?backend=wasm&example=none'],
  ['embedded', '?backend=wasm&embed=1'],
]) {
  test(`no first view where the page opens ${what}`, async ({ page }) => {
    await page.addInitScript(() => {
      const seen = new MutationObserver(() => {
        if (document.getElementById('first-paint')) document.documentElement.dataset.firstPaintSeen = 'true';
      });
      seen.observe(document, { childList: true, subtree: true });
    });
    await page.goto(`./${query}`);
    // The app renders once the first view has been drawn or given up.
    await expect(page.getByTestId('overlay')).toBeVisible();
    await expect(page.locator('html')).not.toHaveAttribute('data-first-paint-seen');
  });
}

test('on a phone the first view stays hidden (the panes stack under a taller toolbar there)', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const app = await holdApp(page);
  await page.goto('./?backend=wasm');
  await expect(page.getByTestId('first-paint')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('first-paint')).toBeHidden();
  app.release();
  await expect(page.getByTestId('first-paint')).toHaveCount(0);
  await context.close();
});

for (const [what, query] of [
  ['on the example', '?backend=wasm'],
  ['on empty panes', '?backend=wasm&example=none'],
  ['embedded', '?backend=wasm&embed=1'],
]) {
  test(`opening ${what}, the model loads before the app's chunk has run, and the app takes over its worker`, async ({ page }) => {
    // Every message the page's one model worker sends, noted as it arrives.
    await page.addInitScript(() => {
      const Native = window.Worker;
      window.Worker = class extends Native {
        constructor(...args: ConstructorParameters<typeof Worker>) {
          super(...args);
          const seen = (document.documentElement.dataset.workers = String(Number(document.documentElement.dataset.workers ?? 0) + 1));
          this.addEventListener('message', ({ data }) => {
            if (data?.type === 'ready') document.documentElement.dataset.modelReady = seen;
          });
        }
      };
    });
    const app = await holdApp(page);
    await page.goto(`./${query}`);
    // The whole load, its progress and `ready` included, goes by while the app's chunk is held back.
    await expect(page.locator('html')).toHaveAttribute('data-model-ready', '1', { timeout: 90_000 });
    await expect(page.locator('#root'), 'the app has not run').toBeEmpty();
    app.release();
    // The app can only know from the `ready` it was given, sent before it ran.
    await expect(page.locator('.app')).toHaveAttribute('data-model', 'ready');
    await expect(page.locator('html'), 'one model worker').toHaveAttribute('data-workers', '1');
  });
}
