/**
 * Objects facing opposite ways (wasm backend): a photo and its mirrored copy are dropped; the mirror rule
 * matches the target as a mirror image, so a click lands on the mirrored point and the readout says so.
 */
import type { Page } from '@playwright/test';
import { clickImage, dropFile, expect, openApp, parsePoint, screenshot, sharedPage, shiftedPair, test, waitEncoded } from './fixtures';

const EXAMPLE = 'car_side-000.jpg';
const SIZE = { width: 288, height: 189 };
/** On the car (textured), well left of the middle, so its mirror point is far from it. */
const POINT = { x: 100, y: 110 };

test.describe.configure({ mode: 'serial' });

let page: Page;
sharedPage((p) => (page = p));

test('a click on a photo lands on the mirrored point of its mirrored copy', async () => {
  await openApp(page);
  const [photo, mirrored] = await shiftedPair(page, EXAMPLE, 0, 0, undefined, true);
  await dropFile(page, 'source', photo);
  await dropFile(page, 'target', mirrored);
  await waitEncoded(page);

  const readouts = await watchReadout(page);
  await clickImage(page, 'source', POINT.x, POINT.y, SIZE);
  const pin = page.getByTestId('pin').last();
  await expect(page.getByTestId('readout')).toContainText('matched mirrored');
  // The mirror images are encoded after the click's first answer, which came plainly (no encode on its way).
  const answered = (await readouts()).filter((text) => /consistent|doubtful/.test(text));
  expect(answered[0]).not.toContain('matched mirrored');
  const match = parsePoint(await pin.getAttribute('data-match'));
  const expected = { x: SIZE.width - POINT.x, y: POINT.y };
  expect(Math.hypot(match.x - expected.x, match.y - expected.y)).toBeLessThan(0.02 * SIZE.width);
  await expect(page.getByTestId('readout')).toContainText('matched mirrored');
  await screenshot(page, 'mirrored-target');
});

/** Every answer the readout shows from now on, as its text (read by the returned function). */
async function watchReadout(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { readouts: string[] }).readouts = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid=readout]')?.textContent;
      if (text && text !== seen[seen.length - 1]) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  return () => page.evaluate(() => (window as unknown as { readouts: string[] }).readouts);
}
