import { createReadStream, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/** tfjs-backend-wasm fetches its binaries by name from one folder (`wasmPaths`): serve and emit them as `tfjs-wasm/`. */
function tfjsWasm(): Plugin {
  const dist = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  const files = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];
  return {
    name: 'tfjs-wasm',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const file = files.find((f) => req.url?.split('?')[0].endsWith(`/tfjs-wasm/${f}`));
        if (!file) return next();
        res.setHeader('Content-Type', 'application/wasm');
        createReadStream(`${dist}/${file}`).pipe(res);
      });
    },
    generateBundle() {
      for (const file of files) this.emitFile({ type: 'asset', fileName: `tfjs-wasm/${file}`, source: readFileSync(`${dist}/${file}`) });
    },
  };
}

/** The built site may talk to its own origin only (the dev server needs inline scripts, so build only). */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

const csp = (): Plugin => ({
  name: 'csp',
  apply: 'build',
  transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' }],
});

export default defineConfig({
  // Relative URLs: the built site works from any sub-path (e.g. /demos/mmnet/).
  base: './',
  plugins: [react(), tfjsWasm(), csp()],
  worker: { format: 'es' },
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    globalSetup: ['scripts/test-setup.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // The wasm backend is single-threaded; parallel files would only fight over 2 cores.
    fileParallelism: false,
  },
});
