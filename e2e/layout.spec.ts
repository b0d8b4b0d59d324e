/**
 * Images first, at four screen sizes: with an example pair loaded and a pin placed, both photos lie whole in
 * the viewport, no control covers them, nothing scrolls sideways, and (on desktops) the inspector and the
 * status line are on screen too. Screenshots go to test-results/screenshots/layout-<size>.png for review.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, openApp, test, waitEncoded, watchPage } from './fixtures';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const SIZES = [
  { name: '1366x768', viewport: { width: 1366, height: 768 }, desktop: true },
  { name: '1920x1080', viewport: { width: 1920, height: 1080 }, desktop: true },
  { name: '390x844', viewport: { width: 390, height: 844 }, touch: true },
  { name: 'embed-960x560', viewport: { width: 960, height: 560 }, query: '?embed=1&backend=wasm' },
];

/** Sub-pixel rounding of layout boxes. */
const SLACK = 0.5;

const inside = (box: Box, viewport: { width: number; height: number }) =>
  box.x >= -SLACK && box.y >= -SLACK && box.x + box.width <= viewport.width + SLACK && box.y + box.height <= viewport.height + SLACK;

/** The area two boxes share (touching edges do not count). */
const overlap = (a: Box, b: Box) =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));

async function boxes(locator: Locator): Promise<{ label: string; box: Box }[]> {
  const found = [];
  for (const element of await locator.all()) {
    const box = await element.boundingBox();
    if (box && box.width > 0 && box.height > 0) {
      found.push({ label: await element.evaluate((e) => e.outerHTML.slice(0, 80)), box });
    }
  }
  return found;
}

/** Places a pin by a click, or a tap on a touch screen; the heat map of its match shows on the target. */
async function placePin(page: Page, touch: boolean | undefined) {
  const box = (await page.locator('[data-frame=source]').boundingBox())!;
  const [x, y] = [box.x + box.width * 0.45, box.y + box.height * 0.55];
  if (touch) await page.touchscreen.tap(x, y);
  else await page.mouse.click(x, y);
  await expect(page.getByTestId('heatmap-target')).toBeVisible();
}

for (const { name, viewport, desktop, touch, query } of SIZES) {
  test(`layout at ${name}: both photos whole, no control over them, no sideways scroll`, async ({ browser, baseURL }) => {
    const context = await browser.newContext({ baseURL, viewport, isMobile: touch, hasTouch: touch, deviceScaleFactor: touch ? 2 : 1 });
    const page = await context.newPage();
    const watch = watchPage(page, new URL(baseURL!).origin);
    await openApp(page, query);
    await page.getByRole('button', { name: 'Try an example' }).click();
    await waitEncoded(page);
    await placePin(page, touch);
    if (!query) await expect(page.getByTestId('pin')).toHaveCount(1);

    const photos = await boxes(page.getByTestId('photo'));
    expect(photos).toHaveLength(2);
    for (const { box } of photos)
      expect(inside(box, viewport), `photo ${JSON.stringify(box)} inside ${JSON.stringify(viewport)}`).toBe(true);

    const controls = await boxes(page.locator('button:visible, label:visible, fieldset:visible, input:visible, select:visible'));
    expect(controls.length).toBeGreaterThan(5);
    for (const control of controls) {
      for (const photo of photos) expect(overlap(control.box, photo.box), `${control.label} over a photo`).toBe(0);
    }

    const { scrollWidth, clientWidth } = await page.evaluate(() => {
      const { scrollWidth, clientWidth } = document.documentElement;
      return { scrollWidth, clientWidth };
    });
    expect(scrollWidth, 'no horizontal scroll').toBeLessThanOrEqual(clientWidth);

    if (desktop) {
      for (const part of [page.getByTestId('readout'), page.getByTestId('status')]) {
        await expect(part).toBeVisible();
        expect(inside((await part.boundingBox())!, viewport), `${await part.getAttribute('data-testid')} on screen`).toBe(true);
      }
      await expect(page.getByTestId('readout')).toContainText(/(likely right|unsure|probably wrong) · \d+ %/);
      await expect(page.getByTestId('readout')).toContainText('back');
      await expect(page.getByTestId('status')).toContainText('Backend');
    }

    await page.screenshot({ path: `test-results/screenshots/layout-${name}.png` });
    watch.verify();
    await context.close();
  });
}
