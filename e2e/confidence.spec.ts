/**
 * The calibrated confidence in the app (wasm backend): the readout's band and number with the legend, the
 * exports' `confidence`, and a photo against a flat grey image, where no match can be trusted.
 */
import type { Page } from '@playwright/test';
import { clickImage, downloadText, dropFile, expect, openApp, screenshot, sharedPage, shiftedPair, test, waitEncoded } from './fixtures';

const SIZE = { width: 288, height: 189 };
/** Points on the car, away from the grey border the shift adds. */
const POINTS = [
  { x: 150, y: 110 },
  { x: 80, y: 120 },
  { x: 220, y: 100 },
];

test.describe.configure({ mode: 'serial' });

let page: Page;
sharedPage((p) => (page = p));

const BADGE = /^(likely right|unsure|probably wrong) · \d{1,3} %$/;

/** The photo shifted by its whole width: nothing of it is left, a flat grey image of its size. */
const greyImage = async () => (await shiftedPair(page, 'car_side-000.jpg', SIZE.width, 0))[1];

const answered = () => expect(page.locator('[data-testid=pin][data-match=""]')).toHaveCount(0);

test('the readout says how likely the match is right, in words and number, with a legend', async () => {
  await openApp(page);
  const [photo, shifted] = await shiftedPair(page, 'car_side-000.jpg', 24, 16);
  await dropFile(page, 'source', photo);
  await dropFile(page, 'target', shifted);
  await waitEncoded(page);
  for (const p of POINTS) await clickImage(page, 'source', p.x, p.y, SIZE);
  await expect(page.getByTestId('pin')).toHaveCount(POINTS.length);
  await answered();

  const badge = page.getByTestId('readout').getByTestId('confidence');
  await expect(badge).toHaveText(BADGE);
  const confidence = Number(await badge.getAttribute('data-confidence'));
  expect(confidence).toBeGreaterThanOrEqual(0);
  expect(confidence).toBeLessThanOrEqual(1);
  expect(await badge.textContent()).toContain(`${Math.round(100 * confidence)} %`);

  const legend = page.getByTestId('confidence-legend');
  await expect(legend).toBeVisible();
  for (const words of ['likely right', 'unsure', 'probably wrong']) await expect(legend).toContainText(words);
  await expect(page.getByTestId('heat-legend')).toContainText('100 %');
  // A photo against a shifted copy of itself: the matches are not all in doubt.
  await expect(page.getByTestId('uncertain-pair')).toHaveCount(0);
  await screenshot(page, 'confidence-readout');
});

test('the exports carry each match’s confidence and band', async () => {
  await page.getByRole('button', { name: 'More' }).click();
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  const data = JSON.parse(await downloadText(json));
  expect(data.pins).toHaveLength(POINTS.length);
  for (const pin of data.pins) {
    expect(pin.confidence).toBeGreaterThanOrEqual(0);
    expect(pin.confidence).toBeLessThanOrEqual(1);
    expect(['likely', 'unsure', 'wrong']).toContain(pin.band);
  }
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const [header, ...rows] = (await downloadText(csv)).trim().split('\n');
  const column = header.split(',').indexOf('confidence');
  expect(column).toBeGreaterThan(0);
  expect(rows.map((r) => Number(r.split(',')[column]))).toEqual(data.pins.map((p: { confidence: number }) => +p.confidence.toFixed(4)));
  await page.keyboard.press('Escape');
});

test('a photo against a flat grey image says once that no match can be trusted', async () => {
  await dropFile(page, 'target', await greyImage());
  await waitEncoded(page);
  await answered();
  const note = page.getByTestId('uncertain-pair');
  await expect(note).toHaveCount(1);
  await expect(note).toContainText('None of these matches is likely right');
  const bands = await page.getByTestId('pin').evaluateAll((items) => items.map((li) => li.getAttribute('data-band')));
  expect(bands).toHaveLength(POINTS.length);
  expect(bands).not.toContain('likely');
  await screenshot(page, 'confidence-uncertain-pair');
});

test('embed mode shows the confidence of the shown match', async () => {
  await openApp(page, '?embed=1&backend=wasm');
  const [photo, shifted] = await shiftedPair(page, 'car_side-000.jpg', 24, 16);
  await dropFile(page, 'source', photo);
  await dropFile(page, 'target', shifted);
  await waitEncoded(page);
  await clickImage(page, 'source', POINTS[0].x, POINTS[0].y, SIZE);
  await expect(page.getByTestId('confidence')).toHaveText(BADGE);
  await screenshot(page, 'confidence-embed');
});
