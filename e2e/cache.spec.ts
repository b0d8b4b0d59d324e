/** The model files are cached in the browser: a second visit downloads no weights and says so. */
import { expect, openApp, test } from './fixtures';

test('a second visit loads the model from the browser cache', async ({ page }) => {
  await openApp(page);
  const load = page.getByTestId('load');
  await expect(load).not.toContainText('from cache');

  const shards: string[] = [];
  page.context().on('request', (r) => {
    if (r.url().endsWith('.bin')) shards.push(r.url());
  });
  await page.reload();
  await expect(page.locator('.app')).toHaveAttribute('data-model', 'ready', { timeout: 90_000 });
  await expect(load).toContainText('(from cache)');
  expect(shards).toEqual([]);
});
