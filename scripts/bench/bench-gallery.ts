/**
 * The gallery part of `npm run bench:browser`: on one backend, N distinct targets dropped at once (encode
 * throughput, drop → every thumbnail encoded and matched), then a source pin moved by the keyboard, several
 * times (re-matching all targets × pins: the worker's time for the one batched message, and the time from
 * the key to the updated markers on the page).
 */
import type { Browser } from '@playwright/test';

export interface GalleryBench {
  backend: string;
  targets: number;
  pins: number;
  /** Targets encoded per second, drop → the last encoded (decode, hash and thumbnail included). */
  imagesPerSecond: number;
  /** Median over the moves. */
  rematchWorkerMs: number;
  rematchPageMs: number;
}

/** The example photos the benchmarks load (copied into public/examples/ by `npm run examples`). */
export const EXAMPLES = [
  'car_side-000.jpg',
  'car_side-001.jpg',
  'Motorbikes-000.jpg',
  'Motorbikes-002.jpg',
  'dalmatian-000.jpg',
  'dalmatian-001.jpg',
  'Faces_easy-000.jpg',
  'Faces_easy-001.jpg',
];
const MOVES = 5;

export async function measureGallery(
  browser: Browser,
  base: string,
  backend: string,
  targets: number,
  pins: number,
): Promise<GalleryBench> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(`${base}?backend=${backend}`);
    await page.waitForSelector('[data-model=ready]', { timeout: 600_000 });
    await page.getByRole('button', { name: 'Gallery' }).click();
    await page.getByTestId('pane-source').evaluate(async (pane, example) => {
      const blob = await (await fetch(`examples/${example}`)).blob();
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], example, { type: blob.type }));
      pane.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, EXAMPLES[0]);
    await page.waitForSelector('[data-testid=encode-source]:not([data-ms=""])', { timeout: 600_000, state: 'attached' });
    const frame = (await page.locator('[data-frame=source]').boundingBox())!;
    for (let k = 0; k < pins; k++)
      await page.mouse.click(frame.x + frame.width * (0.2 + (0.6 * k) / pins), frame.y + frame.height * (0.4 + 0.05 * k));

    // Distinct files (a duplicate would be encoded once): the examples, each variant cropped differently.
    const encodeMs = await page.getByTestId('gallery').evaluate(
      async (gallery, { examples, targets }) => {
        const files: File[] = [];
        for (let k = 0; k < targets; k++) {
          const photo = await createImageBitmap(await (await fetch(`examples/${examples[k % examples.length]}`)).blob());
          const crop = Math.floor(k / examples.length) * 8;
          const canvas = new OffscreenCanvas(photo.width - crop, photo.height - crop);
          canvas.getContext('2d')!.drawImage(photo, -crop, -crop);
          files.push(
            new File([await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })], `target-${k}.jpg`, { type: 'image/jpeg' }),
          );
        }
        const transfer = new DataTransfer();
        for (const file of files) transfer.items.add(file);
        const header = document.querySelector<HTMLElement>('[data-testid=gallery-header]')!;
        const start = performance.now();
        gallery.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        while (header.dataset.encodes !== String(targets)) await new Promise((r) => setTimeout(r, 20));
        return performance.now() - start;
      },
      { examples: EXAMPLES, targets },
    );
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=marker]').length === n, targets * pins, { timeout: 600_000 });

    const worker: number[] = [];
    const wall: number[] = [];
    await page.locator('[data-frame=source]').focus();
    for (let k = 0; k < MOVES; k++) {
      const ms = await page.evaluate(async () => {
        const status = document.querySelector<HTMLElement>('[data-testid=gallery-match]')!;
        const before = status.dataset.ms;
        const changed = new Promise<void>((resolve) => {
          const watch = new MutationObserver(() => {
            if (status.dataset.ms === before) return;
            watch.disconnect();
            resolve();
          });
          watch.observe(status, { attributes: true });
        });
        const start = performance.now();
        document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', shiftKey: true, bubbles: true }));
        await changed;
        // The markers are in the same React commit as the status; wait for the frame that shows them.
        await new Promise((r) => requestAnimationFrame(r));
        return { wall: performance.now() - start, worker: Number(status.dataset.ms), text: status.textContent! };
      });
      if (!ms.text.includes(`${targets} × ${pins}`)) throw new Error(`expected a re-match of ${targets} × ${pins}, got “${ms.text}”`);
      worker.push(ms.worker);
      wall.push(ms.wall);
    }
    return {
      backend: (await page.getByTestId('status').getAttribute('data-backend'))!,
      targets,
      pins,
      imagesPerSecond: targets / (encodeMs / 1000),
      rematchWorkerMs: median(worker),
      rematchPageMs: median(wall),
    };
  } finally {
    await page.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
