/**
 * Gallery mode on one page (wasm backend): one source with pins, many targets dropped at once (a text file
 * and a duplicate among them), the pins carried to each, the export, opening a target beside the source,
 * removal freeing the features, the limit and Cancel.
 */
import type { Page } from '@playwright/test';
import {
  clickImage,
  dropFile,
  exampleFile,
  expect,
  openApp,
  screenshot,
  sharedPage,
  shiftedPair,
  test,
  waitEncoded,
  type FileSpec,
} from './fixtures';

/** The network's input size: a shift by whole stride-16 cells moves every feature by whole cells. */
const SIZE = { width: 320, height: 224 };
const SHIFT = { x: 32, y: 16 };
/** Pins on the car, away from the grey border the shift adds. */
const PINS = [
  { x: 120, y: 120 },
  { x: 176, y: 104 },
  { x: 216, y: 136 },
];

test.describe.configure({ mode: 'serial' });

let page: Page;
sharedPage((p) => (page = p));
let shifted: FileSpec;
/** Tensors with the source alone encoded. */
let baseline: number;

const thumbs = () => page.getByTestId('thumb');
const thumb = (name: string) => page.locator(`[data-testid=thumb][data-name="${name}"]`);
const near = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
const tensors = async () => Number(await page.getByTestId('memory').getAttribute('data-tensors'));

interface Marker {
  pin: number;
  x: number;
  y: number;
  probability: number;
  confidence: number;
  band: string;
  consistent: boolean;
}

async function markers(name: string): Promise<Marker[]> {
  return thumb(name)
    .getByTestId('marker')
    .evaluateAll((gs) =>
      gs.map((g) => {
        const d = (g as SVGElement).dataset;
        return {
          pin: Number(d.pin),
          x: Number(d.x),
          y: Number(d.y),
          probability: Number(d.probability),
          confidence: Number(d.confidence),
          band: d.band!,
          consistent: d.consistent === 'true',
        };
      }),
    );
}

/** Drops several files at once on the gallery, as a person dragging a selection from the desktop. */
async function dropOnGallery(files: FileSpec[]) {
  await page.getByTestId('gallery').evaluate((gallery, files) => {
    const transfer = new DataTransfer();
    for (const { name, type, base64 } of files)
      transfer.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name, { type }));
    gallery.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, files);
}

/** Waits until every thumbnail is encoded and carries a marker per pin. */
async function waitMatched(count: number, pins: number) {
  await expect(thumbs()).toHaveCount(count);
  await expect(page.getByTestId('gallery-progress')).toHaveCount(0, { timeout: 120_000 });
  await expect(page.locator('[data-testid=thumb][data-encoded=false]')).toHaveCount(0);
  await expect(page.getByTestId('marker')).toHaveCount(count * pins);
}

test('six files dropped: five thumbnails, four encodes, one notice, the pins carried to each', async () => {
  await openApp(page);
  await page.getByRole('button', { name: 'Gallery' }).click();
  await expect(page.getByTestId('gallery')).toBeVisible();
  let photo: FileSpec;
  [photo, shifted] = await shiftedPair(page, 'car_side-000.jpg', SHIFT.x, SHIFT.y, SIZE);
  await dropFile(page, 'source', photo);
  await expect(page.locator('[data-frame=source]')).toHaveCount(1);
  await expect(page.locator('.busy')).toHaveCount(0, { timeout: 120_000 });
  await expect(page.getByTestId('memory')).toBeAttached();
  baseline = await tensors();
  for (const p of PINS) await clickImage(page, 'source', p.x, p.y, SIZE);
  await expect(page.getByTestId('pin')).toHaveCount(PINS.length);

  const files = [
    shifted,
    await exampleFile(page, 'car_side-001.jpg'),
    { name: 'notes.txt', type: 'text/plain', base64: btoa('not an image at all') },
    await exampleFile(page, 'Motorbikes-000.jpg'),
    { ...shifted, name: 'shifted-copy.png' },
    await exampleFile(page, 'dalmatian-000.jpg'),
  ];
  await dropOnGallery(files);
  await waitMatched(5, PINS.length);
  await expect(page.getByTestId('gallery-header')).toHaveAttribute('data-encodes', '4');
  await expect(page.locator('.notice')).toHaveCount(1);
  await expect(page.getByRole('alert')).toContainText('“notes.txt”');
  await expect(thumb('shifted-copy.png')).toContainText('same file as shifted.png');
  // A caption too narrow for its name keeps the name's end, where names of one folder differ.
  await expect(thumb('Motorbikes-000.jpg').locator('.thumb-name-tail')).toHaveText('es-000.jpg');
  await expect(thumb('Motorbikes-000.jpg').locator('.thumb-name-tail')).toBeVisible();
  for (const name of ['shifted.png', 'car_side-001.jpg', 'Motorbikes-000.jpg', 'dalmatian-000.jpg']) {
    const found = await markers(name);
    expect(found.map((m) => m.pin).sort()).toEqual([1, 2, 3]);
    for (const m of found) expect(m.probability).toBeGreaterThan(0);
  }
  await screenshot(page, 'gallery');
});

test('the shifted copy receives each pin within 1 px of the known shift; its duplicate the same', async () => {
  const found = await markers('shifted.png');
  const pins = await page.getByTestId('pin').evaluateAll((items) => items.map((li) => Number(li.dataset.query!.split(',')[0])));
  expect(pins).toHaveLength(PINS.length);
  found.sort((a, b) => a.pin - b.pin);
  found.forEach((m, n) => {
    expect(near(m, { x: PINS[n].x + SHIFT.x, y: PINS[n].y + SHIFT.y }), `pin ${m.pin}`).toBeLessThanOrEqual(1);
    expect(m.consistent).toBe(true);
  });
  expect(await markers('shifted-copy.png')).toEqual(await markers('shifted.png'));
});

test('the COCO export parses and matches the markers; the CSV has a row per image and pin', async () => {
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export COCO' }).click()]);
  const coco = JSON.parse(await streamText(await json.createReadStream()));
  expect(coco.info.settings).toMatchObject({ mode: 'fused', scale: 3, flip: false });
  expect(coco.info.settings.head_version).toMatch(/^v\d/);
  expect(coco.categories[0].keypoints).toEqual(['pin 1', 'pin 2', 'pin 3']);
  expect(coco.images.map((i: { file_name: string }) => i.file_name)).toEqual([
    'photo.png',
    'shifted.png',
    'car_side-001.jpg',
    'Motorbikes-000.jpg',
    'shifted-copy.png',
    'dalmatian-000.jpg',
  ]);
  expect(coco.images[1]).toMatchObject(SIZE);
  const source = coco.annotations[0];
  // Clicks land on screen pixels: the pins sit within a hair of the intended points.
  PINS.flatMap((p) => [p.x, p.y, 2]).forEach((v, n) => expect(source.keypoints[n]).toBeCloseTo(v, 3));
  for (const [n, image] of coco.images.slice(1).entries()) {
    const annotation = coco.annotations.find((a: { image_id: number }) => a.image_id === image.id);
    const shown = (await markers(image.file_name)).sort((a, b) => a.pin - b.pin);
    expect(annotation.keypoints, image.file_name).toEqual(shown.flatMap((m) => [m.x, m.y, m.band === 'likely' ? 2 : 1]));
    expect(annotation.scores).toEqual(shown.map((m) => m.confidence));
    expect(annotation.probabilities).toEqual(shown.map((m) => m.probability));
    expect(n + 2).toBe(image.id);
  }

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const lines = (await streamText(await csv.createReadStream())).trim().split('\n');
  expect(lines[0]).toMatch(/^file_name,width,height,sha256,role,keypoint,x,y,visibility,confidence,probability/);
  expect(lines).toHaveLength(1 + 6 * PINS.length);
});

test('moving a source pin re-matches every target', async () => {
  const before = await markers('car_side-001.jpg');
  const box = (await page.locator('[data-frame=source]').boundingBox())!;
  const k = box.width / SIZE.width;
  const from = PINS[0];
  const to = { x: from.x + 16, y: from.y };
  await page.mouse.move(box.x + from.x * k, box.y + from.y * k);
  await page.mouse.down();
  await page.mouse.move(box.x + to.x * k, box.y + to.y * k, { steps: 4 });
  await page.mouse.up();
  await expect(async () => {
    const moved = (await markers('shifted.png')).find((m) => m.pin === 1)!;
    expect(near(moved, { x: to.x + SHIFT.x, y: to.y + SHIFT.y })).toBeLessThanOrEqual(1);
  }).toPass();
  await expect(async () => expect(await markers('car_side-001.jpg')).not.toEqual(before)).toPass();
  await expect(page.getByTestId('gallery-match')).toContainText('matched 4 × 3');
});

test('removing targets frees their features: tensors back to the baseline', async () => {
  const all = await tensors();
  await thumb('dalmatian-000.jpg').getByRole('button', { name: 'Remove dalmatian-000.jpg' }).click();
  await expect(page.getByTestId('memory')).not.toHaveAttribute('data-tensors', String(all));
  const perImage = all - (await tensors());
  expect(perImage).toBeGreaterThan(0);
  expect(all - baseline).toBe(4 * perImage);
  // The duplicate's features stay while the other copy does.
  await thumb('shifted-copy.png').getByRole('button', { name: 'Remove shifted-copy.png' }).click();
  await expect(thumbs()).toHaveCount(3);
  await page.getByRole('button', { name: 'Remove all' }).click();
  await expect(thumbs()).toHaveCount(0);
  await expect(page.getByTestId('memory')).toHaveAttribute('data-tensors', String(baseline));
});

test('a thumbnail opens beside the source with the same pins and answers; back to the grid', async () => {
  await dropOnGallery([shifted]);
  await waitMatched(1, PINS.length);
  const shown = (await markers('shifted.png')).sort((a, b) => a.pin - b.pin);
  await thumb('shifted.png').getByRole('button', { name: 'Open shifted.png beside the source' }).click();
  await waitEncoded(page);
  const pins = page.getByTestId('pin');
  await expect(pins).toHaveCount(PINS.length);
  for (let n = 0; n < PINS.length; n++) await expect(pins.nth(n)).not.toHaveAttribute('data-match', '');
  const matches = await pins.evaluateAll((items) => items.map((li) => li.dataset.match!.split(',').map(Number)));
  matches.forEach(([x, y], n) => expect(near({ x, y }, shown[n])).toBeLessThan(0.06));
  await screenshot(page, 'gallery-open');
  await page.getByRole('button', { name: 'Back to the gallery' }).click();
  await expect(thumbs()).toHaveCount(1);
});

test('over 50 images: the rest are refused with a message; Cancel stops the queue', async () => {
  const files = await page.evaluate(async () => {
    const out: { name: string; type: string; base64: string }[] = [];
    for (let k = 0; k < 52; k++) {
      const canvas = new OffscreenCanvas(64, 48);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = `hsl(${k * 7}, 70%, 50%)`;
      ctx.fillRect(0, 0, 64, 48);
      ctx.fillStyle = '#fff';
      ctx.fillRect(k, 10, 8, 8);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      out.push({ name: `tile-${String(k).padStart(2, '0')}.png`, type: 'image/png', base64: btoa(String.fromCharCode(...bytes)) });
    }
    return out;
  });
  await dropOnGallery(files);
  await expect(page.getByRole('alert').filter({ hasText: 'at most 50 images' })).toContainText(
    '“tile-49.png”, “tile-50.png”, “tile-51.png” not added',
  );
  const progress = page.getByTestId('gallery-progress');
  await expect(progress).toContainText('of 49');
  await expect(progress).toContainText('s left');
  await progress.getByRole('button', { name: 'Cancel' }).click();
  await expect(progress).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: 'Encoding cancelled' })).toBeVisible();
  const left = await thumbs().count();
  expect(left).toBeLessThan(50);
  await expect(page.locator('[data-testid=thumb][data-encoded=false]')).toHaveCount(0);
  await page.getByRole('button', { name: 'Remove all' }).click();
  await expect(thumbs()).toHaveCount(0);
});

test('an oversized image is refused with its size, in a notice that leaves the inspector uncovered', async () => {
  // A PNG signature and IHDR claiming 30000 × 30000 (900 MP): the header is all the app reads.
  const header = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 6, 0, 0, 0,
  ];
  await dropOnGallery([{ name: 'panorama.png', type: 'image/png', base64: Buffer.from(header).toString('base64') }]);
  const alert = page.getByRole('alert').filter({ hasText: 'panorama.png' });
  await expect(alert).toContainText('30000 × 30000 (900.0 MP)');
  const notice = (await alert.boundingBox())!;
  const inspector = (await page.locator('.inspector').boundingBox())!;
  expect(notice.y + notice.height).toBeLessThanOrEqual(inspector.y + 0.5);
  await expect(thumbs()).toHaveCount(0);
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk;
  return text;
}
