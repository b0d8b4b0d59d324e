import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { firstMatchesPath, MANIFEST_PATH, photoPath, type Manifest } from './src/app/examples/files';

/** tfjs-backend-wasm fetches its binaries by name from one folder (`wasmPaths`): serve and emit them as `tfjs-wasm/`. */
function tfjsWasm(): Plugin {
  const dist = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  const files = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
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

const THREADED_GLUE = '/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';

/**
 * Emscripten's glue starts a pool of 8 pthread workers and holds the backend's start until every one has
 * instantiated the module: 8 instantiations on a 2-core machine, 1.3 s of a return visit's start, and they
 * take the cores from the weights' decoding meanwhile. XNNPACK asks for the threads tfjs was told
 * (`setThreadsCount`, capped at half of `navigator.hardwareConcurrency`, which `withLogicalCores` in
 * src/model/backend.ts sets to twice that count while the backend starts); the pool is made that size
 * (a thread asked for beyond it would still start, on its own new worker).
 */
function sizedPool(code: string, fail: (message: string) => never): string {
  const fixedPool = 'var pthreadPoolSize=8;';
  if (!code.includes(fixedPool)) fail('tfjs-backend-wasm no longer sizes its pthread pool as expected');
  return code.replace(fixedPool, 'var pthreadPoolSize=Math.max(1,Math.min(8,Math.floor((navigator.hardwareConcurrency||2)/2)));');
}

/**
 * Threaded wasm in a minified bundle. tfjs starts its pthread workers on the source text of the
 * Emscripten factory, `wasmFactoryThreadedSimd.toString()`, evaluated at a worker's top level, outside
 * the module that defined it. The minifier renames the factory's outer variable `_scriptDir` and turns
 * its guard `typeof _scriptDir !== "undefined"` into `e !== void 0`, which throws "e is not defined"
 * there, so every pthread worker dies and the backend never starts. The workers get Emscripten's own,
 * unminified file instead (as text, the way tfjs passes the factory).
 */
function tfjsWasmThreads(): Plugin {
  const serialisedFactory = /`var WasmBackendModuleThreadedSimd = `\s*\+\s*wasmFactoryThreadedSimd\.toString\(\)/;
  return {
    name: 'tfjs-wasm-threads',
    // The dev server serves dependencies unminified, where the factory's text is intact.
    apply: 'build',
    transform(code, id) {
      if (id.endsWith(THREADED_GLUE)) return { code: sizedPool(code, this.error), map: null };
      if (!id.endsWith('/@tensorflow/tfjs-backend-wasm/dist/backend_wasm.js')) return;
      // tfjs is pinned; a version that serialises differently must be looked at, not shipped broken.
      if (!serialisedFactory.test(code)) this.error('tfjs-backend-wasm no longer serialises its threaded factory as expected');
      const glue = "import threadedSimdGlue from '../wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';\n";
      return { code: glue + code.replace(serialisedFactory, 'threadedSimdGlue'), map: null };
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

/** Cross-origin isolation: SharedArrayBuffer, hence threaded wasm. The dev server and `vite preview` send them. */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Hosts that cannot send `ISOLATION_HEADERS`: a service worker from the site's own folder re-serves every
 * response with them and reloads the page once (coi-serviceworker; it does nothing where the page is
 * isolated already). A classic script from a file, as the package registers itself by its own URL.
 */
function isolationWorker(): Plugin {
  const file = 'coi-serviceworker.js';
  return {
    name: 'isolation-worker',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'script', attrs: { src: file }, injectTo: 'head' }],
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: file, source: readFileSync('node_modules/coi-serviceworker/coi-serviceworker.min.js') });
    },
  };
}

/**
 * What the first screen's arrows wait for (the manifest, the first pair's photos and first matches) is
 * fetched while the page's script loads, not after it has run and rendered. The first pair only: `?example=N`
 * opens another (and `?example=none` none: the browser then notes the unused preloads in the console), and the
 * page fetches the features (0.8 MiB) itself, beside the weights. After the CSP and before the classic
 * isolation script, which holds up the parser (plugin order).
 */
function examplePreload(): Plugin {
  const manifest = `public/${MANIFEST_PATH}`;
  // `crossorigin`: the page's fetch() asks in cors mode, and only a preload asked the same way is reused.
  const preload = (href: string) => ({
    tag: 'link',
    attrs: { rel: 'preload', as: 'fetch', crossorigin: 'anonymous', href },
    injectTo: 'head' as const,
  });
  return {
    name: 'example-preload',
    transformIndexHtml() {
      if (!existsSync(manifest)) return [];
      const [first] = (JSON.parse(readFileSync(manifest, 'utf8')) as Manifest).pairs;
      if (!first) return [];
      return [MANIFEST_PATH, photoPath(first.source), photoPath(first.target), firstMatchesPath(first)].map(preload);
    },
  };
}

/**
 * The app's chunk (src/app/start.tsx) is imported by the page's entry only after the example's first view is
 * drawn (src/app/main.tsx), but downloads with the page: a modulepreload for it and the chunks it imports.
 */
function appPreload(): Plugin {
  return {
    name: 'app-preload',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, { bundle }) {
        const chunks = Object.values(bundle ?? {}).filter((c) => c.type === 'chunk');
        const app = chunks.find((c) => c.facadeModuleId?.endsWith('/src/app/start.tsx'));
        if (!app) this.error('the app chunk (src/app/start.tsx) is missing from the bundle');
        const entry = new Set(chunks.filter((c) => c.isEntry).flatMap((c) => [c.fileName, ...c.imports]));
        return [app.fileName, ...app.imports]
          .filter((file) => !entry.has(file))
          .map((file) => ({
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: true, href: `./${file}` },
            injectTo: 'head' as const,
          }));
      },
    },
  };
}

export default defineConfig({
  // Relative URLs: the built site works from any sub-path (e.g. /demos/mmnet/).
  base: './',
  plugins: [react(), tfjsWasm(), csp(), examplePreload(), isolationWorker(), appPreload()],
  // One stylesheet, linked from the page: the first view needs the app's styles before the app's chunk loads.
  build: { cssCodeSplit: false },
  // The model (tfjs included) runs in the worker bundle, built with these plugins.
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    globalSetup: ['scripts/testing/global-setup.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // The wasm backend is single-threaded; parallel files would only fight over 2 cores.
    fileParallelism: false,
  },
});
