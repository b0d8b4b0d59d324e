/**
 * The main flow on one page (wasm backend): a photo and a copy shifted by a known offset are dropped, then
 * pins, the reverse direction, hover, the dense views, export, matching modes, scale, keyboard and swap.
 */
import type { Page } from '@playwright/test';
import { lineCells, type LineCandidate } from '../src/app/dense/lines';
import {
  clickImage,
  dropFile,
  expect,
  moveOver,
  openApp,
  parsePoint,
  screenshot,
  sharedPage,
  shiftedPair,
  test,
  waitEncoded,
} from './fixtures';

const EXAMPLE = 'car_side-000.jpg';
const SIZE = { width: 288, height: 189 };
const SHIFT = { x: 24, y: 16 };
/** Query points on the car (textured, away from the grey border the shift adds). */
const POINT = { x: 150, y: 110 };

test.describe.configure({ mode: 'serial' });

let page: Page;
sharedPage((p) => (page = p));

const pins = () => page.getByTestId('pin');

/** Opens the toolbar's "More" menu (rarely used settings and export), unless it is open. */
async function openMenu() {
  if ((await page.locator('.popover.menu:popover-open').count()) === 0) await page.getByRole('button', { name: 'More' }).click();
}
const near = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);

async function lastPin() {
  const pin = pins().last();
  await expect(pin).not.toHaveAttribute('data-match', '');
  return { side: await pin.getAttribute('data-side'), match: parsePoint(await pin.getAttribute('data-match')) };
}

test('drop two images, click: the arrow ends on the true point, with a heat map', async () => {
  await openApp(page);
  const [photo, shifted] = await shiftedPair(page, EXAMPLE, SHIFT.x, SHIFT.y);
  await dropFile(page, 'source', photo);
  await dropFile(page, 'target', shifted);
  await waitEncoded(page);
  await expect(page.getByTestId('status')).toContainText('encode target');

  await clickImage(page, 'source', POINT.x, POINT.y, SIZE);
  const { side, match } = await lastPin();
  expect(side).toBe('source');
  expect(near(match, { x: POINT.x + SHIFT.x, y: POINT.y + SHIFT.y })).toBeLessThan(8);

  const heat = await page.getByTestId('heatmap-target').evaluate((c: HTMLCanvasElement) => {
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    return data.reduce((sum, v, k) => (k % 4 === 3 ? sum + v : sum), 0);
  });
  expect(heat).toBeGreaterThan(0);
  await expect(page.getByTestId('readout')).toContainText('consistent');
  await screenshot(page, 'pin-and-heatmap');
});

test('a click on the target queries the reverse direction', async () => {
  await clickImage(page, 'target', POINT.x + SHIFT.x, POINT.y + SHIFT.y, SIZE);
  await expect(pins()).toHaveCount(2);
  const { side, match } = await lastPin();
  expect(side).toBe('target');
  expect(near(match, POINT)).toBeLessThan(8);
});

test('hover mode follows the pointer', async () => {
  await page.getByLabel('Follow the pointer').check();
  const readout = page.getByTestId('readout');
  await moveOver(page, 'source', 100, 100, SIZE);
  await expect(readout).toHaveAttribute('data-query', '100.0,100.0');
  const first = parsePoint(await readout.getAttribute('data-match'));
  expect(near(first, { x: 100 + SHIFT.x, y: 100 + SHIFT.y })).toBeLessThan(16);
  await moveOver(page, 'source', 200, 120, SIZE);
  await expect(readout).toHaveAttribute('data-query', '200.0,120.0');
  const second = parsePoint(await readout.getAttribute('data-match'));
  expect(near(second, first)).toBeGreaterThan(50);
  await screenshot(page, 'hover');
  await page.getByLabel('Follow the pointer').uncheck();
});

test('the dense views (lines, colours, warp) draw the likely-right matches of the grid', async () => {
  const overlay = page.getByTestId('overlay');
  await page.getByRole('radio', { name: 'Lines', exact: true }).check();
  await expect(overlay).not.toHaveAttribute('data-dense-shown', '0');
  await openMenu();
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  await page.keyboard.press('Escape');
  const dense: LineCandidate[] = JSON.parse(await streamText(await json.createReadStream())).dense;
  expect(dense).toHaveLength(280);
  const confident = dense.filter((m) => m.band === 'likely').length;
  // On a shifted copy the consensus carries even the grey border along, so most cells are likely right;
  // which matches a view keeps is `isConfident`'s unit test (src/app/dense/field.test.ts).
  expect(confident).toBeGreaterThan(100);
  // Lines: a spaced few of them (src/app/dense/lines.ts), fewer than the confident cells here.
  const lines = lineCells(dense).length;
  expect(lines).toBeGreaterThan(0);
  expect(lines).toBeLessThan(confident);
  for (const view of ['Lines', 'Colours', 'Warp']) {
    await page.getByRole('radio', { name: view, exact: true }).check();
    await expect(overlay).toHaveAttribute('data-dense-shown', String(view === 'Lines' ? lines : confident));
    await screenshot(page, `dense-${view.toLowerCase()}`);
  }
  await page.getByRole('radio', { name: 'Lines', exact: true }).check();
});

test('export: JSON parses to the shown pins, CSV has a row per match', async () => {
  const shown = await pins().evaluateAll((items) =>
    items.map((li) => ({ side: li.dataset.side, query: li.dataset.query, match: li.dataset.match })),
  );
  await openMenu();
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  const data = JSON.parse(await streamText(await json.createReadStream()));
  const fixed = (p: { x: number; y: number }) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`;
  expect(
    data.pins.map((p: { side: string; query: { x: number; y: number }; match: { x: number; y: number } }) => ({
      side: p.side,
      query: fixed(p.query),
      match: fixed(p.match),
    })),
  ).toEqual(shown);
  expect(data.source).toEqual({ name: 'photo.png', ...SIZE });
  expect(data.dense).toHaveLength(280);

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const lines = (await streamText(await csv.createReadStream())).trim().split('\n');
  expect(lines[0]).toMatch(/^kind,pin,name,query_side/);
  expect(lines).toHaveLength(1 + shown.length + 280);
  await page.keyboard.press('Escape');
  await page.getByRole('radio', { name: 'Arrows', exact: true }).check();
});

test('switching matching modes and scale (the Method menu) re-matches the pins and says which produced them', async () => {
  const shownMode = page.getByTestId('shown-mode');
  await expect(shownMode).toHaveAttribute('data-mode', 'fused');
  await page.getByRole('button', { name: 'Method', exact: true }).click();
  for (const [label, mode] of [
    ['MMNet only', 'mmnet'],
    ['Raw features', 'raw'],
    ['Fused', 'fused'],
  ]) {
    await page.getByRole('radio', { name: label, exact: true }).check();
    await expect(shownMode).toHaveAttribute('data-mode', mode);
    const { match } = await lastPin();
    expect(near(match, POINT), `${mode}: reverse pin`).toBeLessThan(16);
  }
  const scale = (index: string) => page.getByTestId('scale').getByRole('radio', { name: `Scale ${index}`, exact: true });
  await expect(scale('4')).toBeDisabled();
  await scale('1').check();
  await expect(shownMode).toContainText('scale 1');
  await page.getByLabel('Quality: flip averaging').check();
  await expect(shownMode).toContainText('flip averaged', { timeout: 90_000 });
  const { match } = await lastPin();
  expect(near(match, POINT)).toBeLessThan(8);
  await page.getByLabel('Quality: flip averaging').uncheck();
  await scale('3').check();
  await page.keyboard.press('Escape');
});

test('keyboard: Tab to a pane, Enter places a pin, arrows move it, Delete removes it', async () => {
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  const frame = page.locator('[data-frame=source]');
  for (let k = 0; k < 30 && !(await frame.evaluate((el) => el === document.activeElement)); k++) await page.keyboard.press('Tab');
  await expect(frame).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(pins()).toHaveCount(3);
  const before = parsePoint(await pins().last().getAttribute('data-query'));
  await page.keyboard.press('Shift+ArrowRight');
  const after = parsePoint(await pins().last().getAttribute('data-query'));
  expect(after.x).toBeGreaterThan(before.x);
  expect(after.y).toBe(before.y);
  await page.keyboard.press('Delete');
  await expect(pins()).toHaveCount(2);
});

test('a pin dragged with the pointer follows it and is matched again', async () => {
  const first = pins().first();
  const box = (await page.locator('[data-frame=source]').boundingBox())!;
  const k = box.width / SIZE.width;
  await page.mouse.move(box.x + POINT.x * k, box.y + POINT.y * k);
  await page.mouse.down();
  await page.mouse.move(box.x + (POINT.x + 30) * k, box.y + POINT.y * k, { steps: 5 });
  await page.mouse.up();
  await expect(first).toHaveAttribute('data-query', `${(POINT.x + 30).toFixed(1)},${POINT.y.toFixed(1)}`);
  await expect(async () => {
    const match = parsePoint(await first.getAttribute('data-match'));
    expect(near(match, { x: POINT.x + 30 + SHIFT.x, y: POINT.y + SHIFT.y })).toBeLessThan(8);
  }).toPass();
  // Back where it was, for the swap below.
  await page.mouse.move(box.x + (POINT.x + 30) * k, box.y + POINT.y * k);
  await page.mouse.down();
  await page.mouse.move(box.x + POINT.x * k, box.y + POINT.y * k, { steps: 5 });
  await page.mouse.up();
  await expect(first).toHaveAttribute('data-query', `${POINT.x.toFixed(1)},${POINT.y.toFixed(1)}`);
});

test('swap exchanges the images and keeps the pins on their images', async () => {
  await page.getByRole('button', { name: 'Swap' }).click();
  await expect(pins().first()).toHaveAttribute('data-side', 'target');
  const { match } = await (async () => {
    const pin = pins().first();
    await expect(pin).not.toHaveAttribute('data-match', '');
    return { match: parsePoint(await pin.getAttribute('data-match')) };
  })();
  expect(near(match, { x: POINT.x + SHIFT.x, y: POINT.y + SHIFT.y })).toBeLessThan(8);
  await page.getByRole('button', { name: 'Clear pins' }).click();
  await expect(pins()).toHaveCount(0);
});

test('a new target keeps the pins and matches them again; a new source clears them, and Undo brings them back', async () => {
  // After the swap the source is the shifted copy and the target the photo: a source point p is p - SHIFT there.
  const MOVED = { x: 40, y: 8 };
  await clickImage(page, 'source', POINT.x + SHIFT.x, POINT.y + SHIFT.y, SIZE);
  await expect(pins()).toHaveCount(1);
  const pin = pins().first();
  const query = (await pin.getAttribute('data-query'))!;
  expect(near((await lastPin()).match, POINT)).toBeLessThan(8);
  const matchNear = (expected: { x: number; y: number }) =>
    expect(async () => expect(near(parsePoint(await pin.getAttribute('data-match')), expected)).toBeLessThan(8)).toPass();

  const [photo, moved] = await shiftedPair(page, EXAMPLE, MOVED.x, MOVED.y);
  await dropFile(page, 'target', { ...moved, name: 'moved.png' });
  await expect(page.getByTestId('pane-target')).toContainText('moved.png');
  await waitEncoded(page);
  await expect(pins()).toHaveCount(1);
  await expect(pin).toHaveAttribute('data-query', query);
  await matchNear({ x: POINT.x + MOVED.x, y: POINT.y + MOVED.y });

  await dropFile(page, 'source', photo);
  await expect(page.getByTestId('pane-source')).toContainText('photo.png');
  await expect(pins()).toHaveCount(0);
  const notice = page.getByRole('status').filter({ hasText: 'cleared' });
  await expect(notice).toBeVisible();
  await screenshot(page, 'pins-cleared');
  await notice.getByRole('button', { name: 'Undo' }).click();
  await expect(notice).toHaveCount(0);
  await expect(page.getByTestId('pane-source')).toContainText('shifted.png');
  await expect(pins()).toHaveCount(1);
  await expect(pin).toHaveAttribute('data-query', query);
  await waitEncoded(page);
  await matchNear({ x: POINT.x + MOVED.x, y: POINT.y + MOVED.y });
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk;
  return text;
}
