/** Errors are messages, never crashes: bad files, oversized images, a model that cannot load. */
import { dropFile, expect, openApp, screenshot, test, waitEncoded } from './fixtures';

test('a text file dropped as an image shows an error, and the app still works afterwards', async ({ page }) => {
  await openApp(page);
  await dropFile(page, 'source', { name: 'notes.txt', type: 'text/plain', base64: btoa('not an image at all') });
  await expect(page.getByRole('alert')).toContainText('“notes.txt” is not an image');
  await screenshot(page, 'error-text-file');

  await page.getByRole('button', { name: 'Try an example' }).click();
  await waitEncoded(page);
  const box = (await page.locator('[data-frame=source]').boundingBox())!;
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await expect(page.getByTestId('pin')).not.toHaveAttribute('data-match', '');
  await expect(page.getByText('Photo: Caltech-101').first()).toBeVisible();
});

test('an image over 50 megapixels is refused from its header, without decoding it', async ({ page }) => {
  await openApp(page);
  // A PNG signature and IHDR claiming 10000 × 6000: the header is all the app reads.
  const header = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x27, 0x10, 0, 0, 0x17, 0x70, 8, 6, 0, 0, 0,
  ];
  await dropFile(page, 'target', { name: 'huge.png', type: 'image/png', base64: Buffer.from(header).toString('base64') });
  await expect(page.getByRole('alert')).toContainText('images over 50 MP are refused');
  await expect(page.locator('[data-frame=target]')).toHaveCount(0);
});

test('a huge image is downscaled before encoding and the page keeps drawing frames', async ({ page }) => {
  await openApp(page);
  const longestFrameGap = await page.evaluate(async () => {
    // 7000 × 5000 (35 MP): accepted, shown and encoded from a 2048-px copy.
    const canvas = new OffscreenCanvas(7000, 5000);
    const ctx = canvas.getContext('2d')!;
    const gradient = ctx.createLinearGradient(0, 0, 7000, 5000);
    gradient.addColorStop(0, '#203040');
    gradient.addColorStop(1, '#e0c080');
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, 7000, 5000);
    const file = new File([await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 })], 'huge.jpg', { type: 'image/jpeg' });

    let gap = 0;
    let last = performance.now();
    let running = true;
    const tick = (now: number) => {
      gap = Math.max(gap, now - last);
      last = now;
      if (running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const transfer = new DataTransfer();
    transfer.items.add(file);
    document
      .querySelector('[data-testid=pane-source]')!
      .dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    while (!document.querySelector('[data-frame=source]') || document.querySelector('.busy')) await new Promise((r) => setTimeout(r, 50));
    running = false;
    return gap;
  });
  await expect(page.getByTestId('pane-source')).toContainText('huge.jpg · 7000×5000');
  await expect(page.getByTestId('status')).toContainText('encode source');
  expect(longestFrameGap).toBeLessThan(1000);
});

test('a model that fails to load says so, naming the file', async ({ page }) => {
  await page.route('**/models/**/model.json', (route) => route.fulfill({ status: 404, body: 'not here' }));
  await page.goto('./?backend=wasm');
  await expect(page.locator('.app')).toHaveAttribute('data-model', 'error', { timeout: 60_000 });
  await expect(page.getByTestId('model-progress')).toContainText('model.json');
  await screenshot(page, 'error-model-load');
});
