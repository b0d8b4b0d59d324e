/** `?embed=1`: only the panes and the controls, for an iframe. */
import { expect, openApp, screenshot, test } from './fixtures';

test('embed mode shows the panes and controls only', async ({ page }) => {
  await openApp(page, '?embed=1&backend=wasm');
  await expect(page.getByTestId('pane-source')).toBeVisible();
  await expect(page.getByTestId('pane-target')).toBeVisible();
  await expect(page.getByRole('radio', { name: 'Fused' })).toBeChecked();
  await expect(page.locator('.app-header')).toHaveCount(0);
  await expect(page.getByTestId('status')).toHaveCount(0);
  await screenshot(page, 'embed');
});

test('the site works from its sub-path with relative URLs', async ({ page, baseURL }) => {
  const requests: string[] = [];
  // blob: URLs are in-memory (tfjs starts its wasm threads from them), not requests to a path.
  page.on('request', (r) => r.url().startsWith('blob:') || requests.push(new URL(r.url()).pathname));
  await openApp(page);
  const base = new URL(baseURL!).pathname;
  expect(base).toBe('/demos/mmnet/');
  expect(requests.filter((path) => !path.startsWith(base))).toEqual([]);
  expect(requests.some((path) => path.endsWith('/model.json'))).toBe(true);
  expect(requests.some((path) => path.endsWith('.wasm'))).toBe(true);
});
