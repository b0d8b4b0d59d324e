/**
 * An app that uses the packed library the way docs/hosting.md says: the model folder and tfjs's `.wasm`
 * files hosted beside the page. e2e/package.spec.ts installs the tarball here, type-checks, builds and
 * drives it; `document.body.dataset` reports the backend, or the load's error.
 */
import { loadMMNet, MMNetError, type Match, type MMNet, type Point } from 'mmnet-web';

declare global {
  interface Window {
    matchPair: (sourceUrl: string, targetUrl: string, points: Point[]) => Promise<Match[]>;
  }
}

async function encodeUrl(model: MMNet, url: string) {
  return model.encode(await createImageBitmap(await (await fetch(url)).blob()));
}

async function start() {
  const model = await loadMMNet('models/mmnet-r101v2/', { backend: 'wasm', wasmPaths: 'tfjs-wasm/' });
  window.matchPair = async (sourceUrl, targetUrl, points) => {
    const [source, target] = await Promise.all([encodeUrl(model, sourceUrl), encodeUrl(model, targetUrl)]);
    try {
      return await model.match(source, target, points);
    } finally {
      source.dispose();
      target.dispose();
    }
  };
  document.body.dataset.backend = model.backend.name;
}

start().catch((e: unknown) => {
  document.body.dataset.error = e instanceof MMNetError ? `${e.code}: ${e.message}` : String(e);
});
