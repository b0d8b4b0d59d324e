/**
 * Everyday use at five screen sizes (1280×800, 1366×768, 1920×1080, a 390×844 phone, embedded at 960×560):
 * with an example pair loaded, both photos lie whole in the viewport, every control and every menu panel
 * (About included) lies inside it and off the photos, the two legends lie whole in it on one line each,
 * nothing scrolls sideways, 12 pins are all reachable in the chip list, and the dense view leaves the pane
 * headers alone and draws few enough lines to follow. On the desktop size a renamed pin is followed into
 * the JSON, CSV and COCO exports. Screenshots go to test-results/screenshots/layout-*.png.
 */
import type { Locator, Page } from '@playwright/test';
import { MAX_LINES } from '../src/app/dense/lines';
import { exampleFile, expect, openApp, test, waitEncoded, watchPage } from './fixtures';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const SIZES = [
  { name: '1280x800', viewport: { width: 1280, height: 800 }, desktop: true },
  { name: '1366x768', viewport: { width: 1366, height: 768 }, desktop: true, views: true, exports: true },
  { name: '1920x1080', viewport: { width: 1920, height: 1080 }, desktop: true },
  { name: '390x844', viewport: { width: 390, height: 844 }, touch: true, views: true },
  { name: 'embed-960x560', viewport: { width: 960, height: 560 }, query: '?embed=1&backend=wasm' },
];

/** Sub-pixel rounding of layout boxes. */
const SLACK = 0.5;
const PINS = 12;

const inside = (box: Box, viewport: { width: number; height: number }) =>
  box.x >= -SLACK && box.y >= -SLACK && box.x + box.width <= viewport.width + SLACK && box.y + box.height <= viewport.height + SLACK;

/** The area two boxes share (touching edges do not count). */
const overlap = (a: Box, b: Box) =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));

async function boxes(locator: Locator, skipChips = false): Promise<{ label: string; box: Box }[]> {
  const found = [];
  for (const element of await locator.all()) {
    if (skipChips && (await element.evaluate((e) => !!e.closest('[data-testid=pins]')))) continue;
    const box = await element.boundingBox();
    if (box && box.width > 0 && box.height > 0) {
      found.push({ label: await element.evaluate((e) => e.outerHTML.slice(0, 80)), box });
    }
  }
  return found;
}

/** Clicks (or taps, on a touch screen) a point of the source given as fractions of its width and height. */
async function tapSource(page: Page, touch: boolean | undefined, fx: number, fy: number) {
  const box = (await page.locator('[data-frame=source]').boundingBox())!;
  const [x, y] = [box.x + box.width * fx, box.y + box.height * fy];
  if (touch) await page.touchscreen.tap(x, y);
  else await page.mouse.click(x, y);
}

/** Every control, those in the chip list aside (it scrolls by design; see `chipsReachable`). */
const CONTROLS = 'button:visible, label:visible, fieldset:visible, input:visible, select:visible, a:visible';

/** Opens a toolbar menu and checks that its panel and every control in it lie inside the viewport. */
async function menuInside(page: Page, name: string, viewport: Box) {
  await page.getByRole('button', { name, exact: true }).click();
  const panel = page.locator('.popover:popover-open');
  await expect(panel).toHaveCount(1);
  expect(inside((await panel.boundingBox())!, viewport), `${name} panel inside the viewport`).toBe(true);
  for (const { label, box } of await boxes(panel.locator('button:visible, label:visible, input:visible'))) {
    expect(inside(box, viewport), `${label} (in ${name}) inside the viewport`).toBe(true);
  }
  await page.keyboard.press('Escape');
  await expect(panel).toHaveCount(0);
}

/** An element lies inside the viewport, nothing in it is clipped, and its text runs on one line. */
async function wholeOnOneLine(page: Page, testId: string, viewport: Box) {
  const element = page.getByTestId(testId);
  await expect(element).toBeVisible();
  expect(inside((await element.boundingBox())!, viewport), `${testId} inside the viewport`).toBe(true);
  const { clipped, wrapped, spread } = await element.evaluate((e) => {
    const centres: number[] = [];
    let wrapped = false;
    const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      // A text broken over two lines has a box per line.
      if (rects.length > 1) wrapped = true;
      for (const r of rects) centres.push(r.top + r.height / 2);
    }
    return { clipped: e.scrollWidth > e.clientWidth + 1, wrapped, spread: Math.max(...centres) - Math.min(...centres) };
  });
  expect(clipped, `${testId} clipped inside its box`).toBe(false);
  expect(wrapped, `${testId}: a text wraps`).toBe(false);
  expect(spread, `${testId}: its texts on one line`).toBeLessThanOrEqual(4);
}

/** Each chip can be scrolled to, lies inside the viewport there, and selects its pin when pressed. */
async function chipsReachable(page: Page, viewport: Box) {
  const chips = page.getByTestId('pin');
  await expect(chips).toHaveCount(PINS);
  for (let n = 0; n < PINS; n++) {
    const select = chips.nth(n).locator('.chip-select');
    await select.scrollIntoViewIfNeeded();
    expect(inside((await select.boundingBox())!, viewport), `chip ${n + 1} inside the viewport`).toBe(true);
    await select.click();
    await expect(select).toHaveAttribute('aria-pressed', 'true');
  }
}

/** Summed alpha of the overlay's pixels over the pane headers: zero where nothing is painted. */
async function paintOverHeaders(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=overlay]')!;
    const ctx = canvas.getContext('2d')!;
    const stage = canvas.getBoundingClientRect();
    const k = canvas.width / stage.width;
    let alpha = 0;
    for (const header of document.querySelectorAll('.pane-header')) {
      const r = header.getBoundingClientRect();
      // One CSS pixel in from each edge: the clip's anti-aliased border row may be partly painted.
      const { data } = ctx.getImageData((r.left - stage.left + 1) * k, (r.top - stage.top + 1) * k, (r.width - 2) * k, (r.height - 2) * k);
      for (let i = 3; i < data.length; i += 4) alpha += data[i];
    }
    return alpha;
  });
}

async function download(page: Page, click: () => Promise<void>): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const chunks: Buffer[] = [];
  for await (const chunk of await file.createReadStream()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const shot = (page: Page, name: string) => page.screenshot({ path: `test-results/screenshots/layout-${name}.png` });

for (const { name, viewport, desktop, touch, query, views, exports } of SIZES) {
  test(`layout at ${name}: photos whole, controls and menus on screen, 12 pins reachable`, async ({ browser, baseURL }) => {
    test.setTimeout(240_000);
    const context = await browser.newContext({ baseURL, viewport, isMobile: touch, hasTouch: touch, deviceScaleFactor: touch ? 2 : 1 });
    const page = await context.newPage();
    const watch = watchPage(page, new URL(baseURL!).origin);
    const screen = { x: 0, y: 0, ...viewport };
    await openApp(page, query);
    await page.getByRole('button', { name: 'Try an example' }).click();
    await waitEncoded(page);
    // A 4 × 3 grid of pins over the source, apart enough that no tap grabs an earlier pin.
    for (let n = 0; n < PINS; n++) await tapSource(page, touch, 0.2 + 0.2 * (n % 4), 0.25 + 0.25 * Math.floor(n / 4));
    await expect(page.getByTestId('pin')).toHaveCount(PINS);
    await expect(page.getByTestId('heatmap-target')).toBeVisible();

    const photos = await boxes(page.getByTestId('photo'));
    expect(photos).toHaveLength(2);
    for (const { box } of photos)
      expect(inside(box, viewport), `photo ${JSON.stringify(box)} inside ${JSON.stringify(viewport)}`).toBe(true);

    const found = await boxes(page.locator(CONTROLS), true);
    expect(found.length).toBeGreaterThan(5);
    for (const control of found) {
      expect(inside(control.box, viewport), `${control.label} inside the viewport`).toBe(true);
      for (const photo of photos) expect(overlap(control.box, photo.box), `${control.label} over a photo`).toBe(0);
    }
    const { scrollWidth, clientWidth } = await page.evaluate(() => {
      const { scrollWidth, clientWidth } = document.documentElement;
      return { scrollWidth, clientWidth };
    });
    expect(scrollWidth, 'no horizontal scroll').toBeLessThanOrEqual(clientWidth);

    if (!query) await menuInside(page, 'About', screen);
    await menuInside(page, 'Method', screen);
    await menuInside(page, 'More', screen);
    if (touch) {
      // No tooltips on a touch screen: the toolbar's labels show.
      for (const label of await page.locator('.toolbar .tool-label').all()) expect((await label.boundingBox())!.width).toBeGreaterThan(4);
    }

    if (desktop) {
      // One row of controls, labels and all: a second row would take the photos' height.
      expect((await page.locator('.toolbar').boundingBox())!.height, 'toolbar on one row').toBeLessThanOrEqual(40);
      for (const part of [page.getByTestId('readout'), page.getByTestId('status')]) {
        await expect(part).toBeVisible();
        expect(inside((await part.boundingBox())!, viewport), `${await part.getAttribute('data-testid')} on screen`).toBe(true);
      }
      await expect(page.getByTestId('readout')).toContainText(/(likely right|unsure|probably wrong) · \d+ %/);
      await expect(page.getByTestId('status').getByText('Details')).toBeVisible();
    }
    if (touch) {
      // The hint and readout wrap instead of being cut.
      const readout = page.locator('.readout');
      expect(await readout.evaluate((e) => e.scrollWidth <= e.clientWidth + 1)).toBe(true);
    }
    if (query) {
      await expect(page.locator('.embed-title a')).toHaveAttribute('href', /^(?!.*embed=)/);
      await expect(page.getByTestId('readout')).toContainText(/(likely right|unsure|probably wrong) · \d+ %/);
    }

    await wholeOnOneLine(page, 'confidence-legend', screen);
    await wholeOnOneLine(page, 'heat-legend', screen);

    await chipsReachable(page, screen);
    await shot(page, name);

    if (views) {
      const overlay = page.getByTestId('overlay');
      for (const view of ['Warp', 'Colours', 'Lines']) {
        await page.getByRole('radio', { name: view, exact: true }).check();
        // The canvas redraws on the next frame: until then it holds the previous view and its count.
        await expect(overlay).toHaveAttribute('data-dense-view', view.toLowerCase());
        await expect(overlay).not.toHaveAttribute('data-dense-shown', '0');
        expect(await paintOverHeaders(page), `${view} paints over a pane header`).toBe(0);
        if (view === 'Lines') expect(Number(await overlay.getAttribute('data-dense-shown'))).toBeLessThanOrEqual(MAX_LINES);
        await shot(page, `${name}-${view.toLowerCase()}`);
      }
      await page.getByRole('radio', { name: 'Arrows', exact: true }).check();
      await page.getByLabel('Scales view').check();
      const maps = page.getByTestId('scale-map');
      await expect(maps).toHaveCount(4);
      expect(await maps.evaluateAll((all) => all.map((m) => m.dataset.scale))).toEqual(['4', '3', '2', '1']);
      for (const { box } of await boxes(maps)) expect(inside(box, viewport), 'scale map on screen').toBe(true);
      await shot(page, `${name}-scales`);
      await page.getByLabel('Scales view').uncheck();
    }

    if (exports) await renamedPinInExports(page);
    watch.verify();
    await context.close();
  });
}

/** Holds every query the page sends its worker for `ms`: each is slow enough to show "Matching…". */
async function slowQueries(page: Page, ms: number) {
  await page.addInitScript((ms) => {
    const send = Worker.prototype.postMessage as (this: Worker, message: unknown, transfer: Transferable[]) => void;
    Worker.prototype.postMessage = function (this: Worker, message: { type?: string }, transfer: Transferable[] = []) {
      if (message?.type === 'query') setTimeout(() => send.call(this, message, transfer), ms);
      else send.call(this, message, transfer);
    } as Worker['postMessage'];
  }, ms);
}

for (const { name, viewport, desktop, touch, query = '?backend=wasm' } of SIZES) {
  test(`at ${name} the example's first screen: ${desktop ? 'every pin chip in view, ' : ''}"Matching…" covers no control`, async ({
    browser,
    baseURL,
  }) => {
    const context = await browser.newContext({ baseURL, viewport, isMobile: touch, hasTouch: touch, deviceScaleFactor: touch ? 2 : 1 });
    const page = await context.newPage();
    await slowQueries(page, 5_000);
    await page.goto(`./${query}`);
    await expect(page.getByTestId('photo')).toHaveCount(2);
    if (desktop) {
      // The example's pins, each chip whole inside the list without scrolling it.
      const chips = page.getByTestId('pin');
      await expect(chips).toHaveCount(4);
      const list = (await page.getByTestId('pins').boundingBox())!;
      for (const { label, box } of await boxes(chips)) {
        expect(overlap(box, list), `${label} in view in the chip list`).toBeCloseTo(box.width * box.height, 0);
      }
    }
    await tapSource(page, touch, 0.5, 0.6);
    const matching = page.getByText('Matching…');
    await expect(matching).toBeVisible();
    await shot(page, `${name}-matching`);
    const badge = (await matching.boundingBox())!;
    expect(inside(badge, viewport), '"Matching…" inside the viewport').toBe(true);
    for (const control of await boxes(page.locator(CONTROLS), true)) {
      expect(overlap(badge, control.box), `"Matching…" over ${control.label}`).toBe(0);
    }
    await context.close();
  });
}

/** Renames the first pin, then finds the name in the pair's JSON and CSV and in the gallery's COCO and CSV. */
async function renamedPinInExports(page: Page) {
  const first = page.getByTestId('pin').first();
  const id = await first.getAttribute('data-id');
  await first.getByLabel(`Name of pin ${id}`).fill('front, wheel');
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'More', exact: true }).click();
  const json = JSON.parse(await download(page, () => page.getByRole('button', { name: 'Export JSON' }).click()));
  expect(json.pins[0]).toMatchObject({ pin: Number(id), name: 'front, wheel' });
  expect(json.pins[1].name).toMatch(/^pin \d+$/);
  const csv = await download(page, () => page.getByRole('button', { name: 'Export CSV' }).click());
  expect(csv.split('\n')[1]).toMatch(new RegExp(`^pin,${id},"front, wheel",source,`));
  await page.keyboard.press('Escape');

  await page.getByRole('button', { name: 'Gallery' }).click();
  const target = await exampleFile(page, 'car_side-001.jpg');
  await page
    .getByTestId('gallery-files')
    .setInputFiles({ name: target.name, mimeType: target.type, buffer: Buffer.from(target.base64, 'base64') });
  await expect(page.getByTestId('marker')).toHaveCount(PINS, { timeout: 120_000 });
  const coco = JSON.parse(await download(page, () => page.getByRole('button', { name: 'Export COCO' }).click()));
  expect(coco.categories[0].keypoints[0]).toBe('front, wheel');
  // The menu's export follows the gallery while its grid is shown (it used to write nulls).
  await page.getByRole('button', { name: 'More', exact: true }).click();
  const fromMenu = JSON.parse(await download(page, () => page.getByRole('button', { name: 'Export JSON' }).click()));
  expect(fromMenu.categories[0].keypoints[0]).toBe('front, wheel');
  expect(fromMenu.annotations[1].keypoints.filter((_: number, k: number) => k % 3 === 2).some((v: number) => v > 0)).toBe(true);
  await page.keyboard.press('Escape');
  const keypointsCsv = await download(page, () => page.getByRole('button', { name: 'Export CSV' }).click());
  expect(keypointsCsv).toContain('"front, wheel"');
  await shot(page, 'gallery-captions');
}
