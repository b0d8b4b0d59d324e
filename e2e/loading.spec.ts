/** Loading images: EXIF orientation, paste, the file picker. */
import { expect, openApp, test } from './fixtures';

test('EXIF orientation is respected, paste fills the first empty pane, the picker replaces an image', async ({ page }) => {
  await openApp(page);
  await page.evaluate(async () => {
    // A 300 × 200 JPEG tagged "rotate 90° clockwise" (EXIF orientation 6): shown as 200 × 300.
    const canvas = new OffscreenCanvas(300, 200);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#c33';
    ctx.fillRect(0, 0, 300, 200);
    const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg' })).arrayBuffer());
    const exif = [
      0xff, 0xe1, 0, 34, 0x45, 0x78, 0x69, 0x66, 0, 0, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0,
      0, 0, 0,
    ];
    const file = new File([jpeg.subarray(0, 2), new Uint8Array(exif), jpeg.subarray(2)], 'rotated.jpg', { type: 'image/jpeg' });
    const clipboardData = new DataTransfer();
    clipboardData.items.add(file);
    window.dispatchEvent(new ClipboardEvent('paste', { clipboardData }));
  });
  await expect(page.getByTestId('pane-source')).toContainText('rotated.jpg · 200×300');

  await page.getByTestId('file-target').setInputFiles({
    name: 'picked.png',
    mimeType: 'image/png',
    buffer: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAEUlEQVR4nGM4kWL0H4QZYAwAVEAJdaZokMIAAAAASUVORK5CYII=', 'base64'),
  });
  await expect(page.getByTestId('pane-target')).toContainText('picked.png · 2×2');
});
