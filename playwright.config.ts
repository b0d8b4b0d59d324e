/**
 * End-to-end tests in Debian's chromium against the built site (`npm run build`), served from a sub-path.
 * Most tests force the wasm backend (`?backend=wasm`); one test each runs WebGL and WebGPU (SwiftShader,
 * slow: longer timeout).
 */
import { defineConfig, type LaunchOptions } from '@playwright/test';

// Not vite preview's default port, so a preview someone is running does not collide.
const PORT = Number(process.env.E2E_PORT ?? 4179);
const BASE_PATH = '/demos/mmnet/';
// The built site to serve; another folder lets two checkouts' builds be tested side by side.
const DIST = process.env.E2E_DIST ?? 'dist';

const launch = (extraArgs: string[] = []): LaunchOptions => ({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium',
  args: ['--no-sandbox', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
});

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  // One browser at a time: an encode keeps a core busy, and CI has two.
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 60_000 },
  reporter: [['list']],
  // For tests that serve the build themselves (e2e/threads.spec.ts: a host without isolation headers).
  metadata: { dist: DIST, basePath: BASE_PATH },
  use: {
    baseURL: `http://127.0.0.1:${PORT}${BASE_PATH}`,
    viewport: { width: 1280, height: 800 },
    launchOptions: launch(),
    acceptDownloads: true,
  },
  webServer: {
    command: `npx vite preview --outDir ${DIST} --base ${BASE_PATH} --port ${PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}${BASE_PATH}`,
    reuseExistingServer: false,
  },
  projects: [
    { name: 'wasm', testIgnore: /gpu\.spec/ },
    { name: 'webgl', testMatch: /webgl-gpu\.spec/, timeout: 600_000 },
    { name: 'webgpu', testMatch: /webgpu-gpu\.spec/, timeout: 900_000, use: { launchOptions: launch(['--enable-unsafe-webgpu']) } },
  ],
});
