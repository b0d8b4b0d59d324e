/**
 * The examples in gallery mode (wasm backend): the Example button and the example strip load a gallery set
 * (the example's source with its pins, and photos of the same kind as targets, credited), and every
 * thumbnail shows the pins' matches numbered and coloured like the pins.
 */
import type { Page } from '@playwright/test';
import { expect, openApp, screenshot, sharedPage, test } from './fixtures';

test.describe.configure({ mode: 'serial' });

let page: Page;
sharedPage((p) => (page = p));

const thumbs = () => page.getByTestId('thumb');

/** Waits until the gallery holds `names`, all encoded, each with a marker per pin. */
async function waitGallerySet(names: string[], pins: number) {
  // Polled: a set in place of another passes through the old set's count and an empty grid.
  await expect.poll(() => thumbs().evaluateAll((all) => all.map((t) => t.dataset.name)), { timeout: 60_000 }).toEqual(names);
  await expect(page.locator('[data-testid=thumb][data-encoded=false]')).toHaveCount(0, { timeout: 120_000 });
  for (const name of names) await expect(page.locator(`[data-testid=thumb][data-name="${name}"] [data-testid=marker]`)).toHaveCount(pins);
}

/** Each pin's colour as its chip shows it (computed, so `rgb(…)`), by pin number. */
const pinColours = () =>
  page
    .getByTestId('pin')
    .evaluateAll((chips) =>
      Object.fromEntries(chips.map((chip) => [chip.dataset.id!, getComputedStyle(chip.querySelector('.badge')!).backgroundColor])),
    );

test('Example in gallery mode: the source with its pins, four photos of the same kind, matched on each', async () => {
  await openApp(page);
  await page.getByRole('button', { name: 'Gallery' }).click();
  await page.getByRole('button', { name: 'Try an example' }).click();
  await expect(page.getByTestId('pane-source')).toContainText('Faces_easy-002.jpg');
  await expect(page.getByTestId('pin')).toHaveCount(4);
  await waitGallerySet(['Faces_easy-003.jpg', 'Faces_easy-001.jpg', 'Faces_easy-005.jpg', 'Faces_easy-008.jpg'], 4);
  await expect(page.getByTestId('gallery')).toContainText('Photos: Caltech-101');
  // At 1280 px the header's count and actions keep to one line.
  await expect(page.getByTestId('gallery-match')).toBeAttached();
  expect((await page.getByTestId('gallery-header').boundingBox())!.height, 'gallery header on one line').toBeLessThanOrEqual(30);
  await expect(page.getByRole('button', { name: 'Example: Faces' })).toHaveAttribute('aria-pressed', 'true');
  await screenshot(page, 'gallery-example');
});

test('each marker carries its pin number and colour, on a photo shown whole; a probably wrong one is hollow and dashed', async () => {
  const colours = await pinColours();
  const markers = await page.getByTestId('marker').evaluateAll((gs) =>
    gs.map((g) => {
      const circle = getComputedStyle(g.querySelector('circle')!);
      return {
        pin: (g as SVGElement).dataset.pin!,
        band: (g as SVGElement).dataset.band!,
        number: g.querySelector('text')!.textContent,
        fill: circle.fill,
        stroke: circle.stroke,
        dashed: circle.strokeDasharray !== 'none',
        radius: g.querySelector('circle')!.getBoundingClientRect().width / 2,
        // The photo is shown whole: every marker's centre lies on the thumbnail.
        onThumbnail: (() => {
          const c = g.querySelector('circle')!.getBoundingClientRect();
          const t = g.closest('.thumb-open')!.getBoundingClientRect();
          const [x, y] = [c.x + c.width / 2, c.y + c.height / 2];
          return x >= t.left && x <= t.right && y >= t.top && y <= t.bottom;
        })(),
      };
    }),
  );
  expect(markers).toHaveLength(16);
  for (const m of markers) {
    expect(m.number).toBe(m.pin);
    expect(m.onThumbnail, `marker ${m.pin} on its thumbnail`).toBe(true);
    // As large on screen as the pins on the panes, whatever the thumbnail's scale.
    expect(m.radius).toBeGreaterThanOrEqual(8);
    if (m.band === 'wrong') expect(m).toMatchObject({ stroke: colours[m.pin], dashed: true });
    else expect(m).toMatchObject({ fill: colours[m.pin], dashed: false });
  }
});

test('the example strip loads another gallery set in place of the first', async () => {
  await page.getByRole('button', { name: 'Example: Dalmatians' }).click();
  await expect(page.getByTestId('pane-source')).toContainText('dalmatian-002.jpg');
  await waitGallerySet(['dalmatian-008.jpg', 'dalmatian-000.jpg', 'dalmatian-014.jpg', 'dalmatian-018.jpg'], 4);
  await expect(page.getByRole('button', { name: 'Example: Dalmatians' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('button', { name: 'Example: Faces' })).toHaveAttribute('aria-pressed', 'false');
  await screenshot(page, 'gallery-example-dalmatians');
});
