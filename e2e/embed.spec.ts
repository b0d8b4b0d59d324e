/** `?embed=1`: the panes, the controls and the readout, for an iframe, with a title and a link to the full app. */
import { expect, openApp, screenshot, test } from './fixtures';

test('embed mode shows the panes, the controls, a title and a link to the full app', async ({ page }) => {
  await openApp(page, '?embed=1&backend=wasm');
  await expect(page.getByTestId('pane-source')).toBeVisible();
  await expect(page.getByTestId('pane-target')).toBeVisible();
  await page.getByRole('button', { name: 'Method', exact: true }).click();
  await expect(page.getByRole('radio', { name: 'Fused', exact: true })).toBeChecked();
  await page.keyboard.press('Escape');
  const link = page.getByRole('link', { name: 'Open the full app' });
  await expect(link).toHaveAttribute('target', '_blank');
  // The full app keeps the page's own options, less embedding.
  const params = new URL((await link.getAttribute('href'))!).searchParams;
  expect(params.has('embed')).toBe(false);
  expect(params.get('backend')).toBe('wasm');
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
