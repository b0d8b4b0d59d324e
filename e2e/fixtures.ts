/** Shared helpers: the page with origin and CSP checks, synthesised drops, and the known-offset image pair. */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { test as base, expect, type Download, type Page } from '@playwright/test';

export { expect };

/**
 * Records requests that leave the origin, CSP violations and uncaught page errors; `verify` asserts there
 * were none.
 */
export function watchPage(page: Page, origin: string) {
  const foreign: string[] = [];
  const problems: string[] = [];
  page.context().on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return {
    verify() {
      expect(foreign, 'requests to other origins').toEqual([]);
      expect(problems, 'CSP violations and uncaught errors').toEqual([]);
    },
  };
}

/** Every test's page is watched (see `watchPage`). */
export const test = base.extend<{ page: Page }>({
  page: async ({ page, baseURL }, use) => {
    const watch = watchPage(page, new URL(baseURL!).origin);
    await use(page);
    watch.verify();
  },
});

/**
 * One page for a whole serial spec, so its encodes are paid once; watched like every test's page. `use`
 * receives it before the spec's first test.
 */
export function sharedPage(use: (page: Page) => void): void {
  let page: Page;
  let watch: ReturnType<typeof watchPage>;
  test.beforeAll(async ({ browser, baseURL }) => {
    page = await browser.newPage();
    watch = watchPage(page, new URL(baseURL!).origin);
    use(page);
  });
  test.afterAll(async () => {
    watch.verify();
    await page.close();
  });
}

/**
 * Opens the app and waits for the model. The specs that load their own photos start on empty panes
 * (`example=none`) unless `query` names an example.
 */
export async function openApp(page: Page, query = '?backend=wasm') {
  await page.goto(`./${query.includes('example=') ? query : `${query}${query.includes('?') ? '&' : '?'}example=none`}`);
  await expect(page.locator('.app')).toHaveAttribute('data-model', 'ready', { timeout: 90_000 });
}

export interface FileSpec {
  name: string;
  type: string;
  /** Base64 of the file's bytes. */
  base64: string;
}

/** Drops a file on a pane through a synthesised DataTransfer, as a person dragging it from the desktop. */
export async function dropFile(page: Page, side: 'source' | 'target', file: FileSpec) {
  await page.getByTestId(`pane-${side}`).evaluate((pane, { name, type, base64 }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type }));
    pane.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    pane.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, file);
}

/**
 * A photo and a copy shifted by (dx, dy), as PNGs made in the page from one of the site's examples: a pair
 * whose answer is known (a point p of the source is p + (dx, dy) in the target). `size` stretches the photo
 * first (e.g. to the network's 320 × 224, where a shift by whole feature cells is exact). `mirror` also
 * mirrors the copy (x → width − x, after the shift).
 */
export async function shiftedPair(
  page: Page,
  example: string,
  dx: number,
  dy: number,
  size?: { width: number; height: number },
  mirror = false,
): Promise<[FileSpec, FileSpec]> {
  const [a, b] = await page.evaluate(
    async ({ example, dx, dy, size, mirror }) => {
      const photo = await createImageBitmap(await (await fetch(`examples/${example}`)).blob());
      const { width, height } = size ?? photo;
      const encode = async (x: number, y: number, mirrored = false) => {
        const canvas = new OffscreenCanvas(width, height);
        const ctx = canvas.getContext('2d')!;
        ctx.fillStyle = '#808080';
        ctx.fillRect(0, 0, width, height);
        if (mirrored) ctx.setTransform(-1, 0, 0, 1, width, 0);
        ctx.drawImage(photo, x, y, width, height);
        const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
        let binary = '';
        for (const byte of bytes) binary += String.fromCharCode(byte);
        return btoa(binary);
      };
      return [await encode(0, 0), await encode(dx, dy, mirror)];
    },
    { example, dx, dy, size, mirror },
  );
  return [
    { name: 'photo.png', type: 'image/png', base64: a },
    { name: mirror ? 'mirrored.png' : 'shifted.png', type: 'image/png', base64: b },
  ];
}

/** One of the site's example photos as a file to drop. */
export async function exampleFile(page: Page, name: string): Promise<FileSpec> {
  const base64 = await page.evaluate(async (name) => {
    const bytes = new Uint8Array(await (await fetch(`examples/${name}`)).arrayBuffer());
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary);
  }, name);
  return { name, type: 'image/jpeg', base64 };
}

/** Waits until both panes hold encoded images. */
export async function waitEncoded(page: Page, timeout = 120_000) {
  await expect(page.locator('[data-frame]')).toHaveCount(2, { timeout });
  await expect(page.locator('.busy')).toHaveCount(0, { timeout });
}

/** Clicks a point given in original-image pixels of a pane. */
export async function clickImage(page: Page, side: 'source' | 'target', x: number, y: number, size: { width: number }) {
  const box = (await page.locator(`[data-frame=${side}]`).boundingBox())!;
  const k = box.width / size.width;
  await page.mouse.click(box.x + x * k, box.y + y * k);
}

export async function moveOver(page: Page, side: 'source' | 'target', x: number, y: number, size: { width: number }) {
  const box = (await page.locator(`[data-frame=${side}]`).boundingBox())!;
  const k = box.width / size.width;
  await page.mouse.move(box.x + x * k, box.y + y * k);
}

export const parsePoint = (s: string | null) => {
  const [x, y] = s!.split(',').map(Number);
  return { x, y };
};

/** A download's contents as text. */
export async function downloadText(download: Download): Promise<string> {
  let text = '';
  for await (const chunk of await download.createReadStream()) text += chunk;
  return text;
}

export const screenshot = (page: Page, name: string) => page.screenshot({ path: `test-results/screenshots/${name}.png` });

/** A static host like GitHub Pages, without isolation headers: the folder `root` at `basePath`. */
export async function staticHost(root: string, basePath: string) {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.wasm': 'application/wasm',
    '.json': 'application/json',
    '.jpg': 'image/jpeg',
    '.png': 'image/png',
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://host').pathname);
    const file = join(root, path.slice(basePath.length), path.endsWith('/') ? 'index.html' : '');
    if (!path.startsWith(basePath) || path.includes('..')) return void res.writeHead(404).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
