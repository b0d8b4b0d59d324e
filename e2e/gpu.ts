/**
 * The GPU backends, software-rendered here (SwiftShader: an encode takes minutes). A smoke check: the app
 * gets ready on the backend and a click gives wasm's match and probability; the WebGPU kernels' numbers are
 * checked in Node (src/model/webgpu.test.ts), far cheaper. The same photo goes into both panes, so a backend
 * costs one encode.
 */
import type { Page } from '@playwright/test';
import { dropFile, exampleFile, expect, openApp, screenshot, test, waitEncoded } from './fixtures';

/** Source points to click, as fractions of the frame. */
const CLICKS = [
  [0.5, 0.5],
  [0.3, 0.35],
  [0.7, 0.6],
] as const;
/** The GPU smoke check's click. */
const SMOKE_CLICKS = CLICKS.slice(0, 1);

export interface Reading {
  x: number;
  y: number;
  /** Match probability, percent. */
  p: number;
}

/** Loads the app with `query`, encodes the photo and returns each click's match and probability. */
export async function readings(
  page: Page,
  query: string,
  encodeTimeout: number,
  clicks: readonly (readonly [number, number])[] = CLICKS,
): Promise<Reading[]> {
  await openApp(page, query);
  const photo = await exampleFile(page, 'car_side-000.jpg');
  await dropFile(page, 'source', photo);
  await dropFile(page, 'target', photo);
  await waitEncoded(page, encodeTimeout);
  for (const [fx, fy] of clicks) await clickSource(page, fx, fy);
  const pins = page.getByTestId('pin');
  await expect(pins).toHaveCount(clicks.length);
  for (const pin of await pins.all()) await expect(pin).not.toHaveAttribute('data-match', '', { timeout: 300_000 });
  return Promise.all((await pins.all()).map(async (pin) => parseReading((await pin.textContent())!)));
}

/** The same matches (within 1 px) and probabilities (within 1 point) as `expected` (from `reference`). */
export function expectSameReadings(actual: Reading[], expected: Reading[], reference: string) {
  actual.forEach((a, n) => {
    const e = expected[n];
    expect(Math.hypot(a.x - e.x, a.y - e.y), `click ${n}: ${JSON.stringify(a)} vs ${reference} ${JSON.stringify(e)}`).toBeLessThan(1);
    expect(Math.abs(a.p - e.p), `click ${n}: probability ${a.p} % vs ${reference} ${e.p} %`).toBeLessThan(1);
  });
}

async function clickSource(page: Page, fx: number, fy: number) {
  const box = (await page.locator('[data-frame=source]').boundingBox())!;
  await page.mouse.click(box.x + fx * box.width, box.y + fy * box.height);
}

function parseReading(text: string): Reading {
  const m = /→ \(([\d.]+),([\d.]+)\).*p = ([\d.]+) %/.exec(text);
  expect(m, `a pin with a match: "${text}"`).not.toBeNull();
  return { x: Number(m![1]), y: Number(m![2]), p: Number(m![3]) };
}

async function expectPhotosDrawn(page: Page) {
  for (const photo of await page.getByTestId('photo').all()) {
    expect(await photo.evaluate((c: HTMLCanvasElement) => c.getContext('2d')!.getImageData(c.width / 2, c.height / 2, 1, 1).data[3])).toBe(
      255,
    );
  }
}

/**
 * `survivesGpuCrash`: the app is also given wasm to fall back on; after the answers, the GPU process is
 * crashed (as a driver reset would) and the next click must be answered by wasm, with a notice.
 */
export function gpuTest(backend: 'webgl' | 'webgpu', encodeTimeout: number, { survivesGpuCrash = false } = {}) {
  test(`${backend}: reaches the ready state and answers as wasm does`, async ({ page }) => {
    const expected = await readings(page, '?backend=wasm', 120_000, SMOKE_CLICKS);
    const actual = await readings(page, `?backend=${survivesGpuCrash ? `${backend},wasm` : backend}`, encodeTimeout, SMOKE_CLICKS);
    const status = page.getByTestId('status');
    await expect(status).toHaveAttribute('data-backend', backend);
    expectSameReadings(actual, expected, 'wasm');
    await expectPhotosDrawn(page);
    await screenshot(page, backend);
    if (!survivesGpuCrash) return;

    const cdp = await page.context().browser()!.newBrowserCDPSession();
    await cdp.send('Browser.crashGpuProcess');
    await clickSource(page, 0.4, 0.7);
    const pin = page.getByTestId('pin').nth(SMOKE_CLICKS.length);
    await expect(pin).not.toHaveAttribute('data-match', '', { timeout: 120_000 });
    await expect(status).toHaveAttribute('data-backend', 'wasm');
    await expect(page.getByRole('status').filter({ hasText: 'Switched to WASM' })).toBeVisible();
    await expectPhotosDrawn(page);
    await screenshot(page, `${backend}-after-gpu-crash`);
  });
}
