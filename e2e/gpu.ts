/**
 * The GPU backends, software-rendered here (SwiftShader: an encode takes minutes). The same photo goes into
 * both panes, so the pair costs one encode, with patient timeouts.
 */
import { dropFile, exampleFile, expect, openApp, screenshot, test, waitEncoded } from './fixtures';

/**
 * `fallback`: a backend to fall back on if this one fails mid-way (the app must then say so and still
 * answer); the test records the failure as an annotation.
 */
export function gpuTest(backend: 'webgl' | 'webgpu', encodeTimeout: number, fallback?: 'wasm') {
  test(`${backend}: reaches the ready state and produces a match`, async ({ page }) => {
    await openApp(page, `?backend=${[backend, fallback].filter(Boolean).join(',')}`);
    const status = page.getByTestId('status');
    await expect(status).toHaveAttribute('data-backend', backend);
    const photo = await exampleFile(page, 'car_side-000.jpg');
    await dropFile(page, 'source', photo);
    await dropFile(page, 'target', photo);
    await waitEncoded(page, encodeTimeout);
    const box = (await page.locator('[data-frame=source]').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const pin = page.getByTestId('pin');
    await expect(pin).not.toHaveAttribute('data-match', '', { timeout: 300_000 });
    // Matched against itself, the centre lands near the centre.
    const [x, y] = (await pin.getAttribute('data-match'))!.split(',').map(Number);
    expect(Math.hypot(x - 144, y - 94.5)).toBeLessThan(16);

    // The photos are still drawn (also after a GPU process restart).
    for (const photo of await page.getByTestId('photo').all()) {
      expect(await photo.evaluate((c: HTMLCanvasElement) => c.getContext('2d')!.getImageData(c.width / 2, c.height / 2, 1, 1).data[3])).toBe(255);
    }
    await screenshot(page, backend);
    const answeredBy = await status.getAttribute('data-backend');
    if (answeredBy !== backend) {
      await expect(page.getByRole('status').filter({ hasText: `Switched to ${answeredBy!.toUpperCase()}` })).toBeVisible();
      test.info().annotations.push({ type: 'fallback', description: (await page.getByTestId('backend-note').textContent())! });
    }
  });
}
