/**
 * The model's worker, made by the page's entry (main.tsx) before anything else runs: the backend's start
 * and the weights' downloads (or cache reads) begin while the example's first view is drawn and the app's
 * chunk loads, not after. The worker is the only one; the engine (engine.ts) takes its messages over when
 * the app's chunk runs (`listen`), and gets every message that arrived before then, in order.
 */
import { MODEL_NAME } from '../model/constants';
import { backends, threads } from './params';
import type { Request, Response } from './protocol';
import { useStore } from './store';

export const worker = new Worker(new URL('./worker-entry.ts', import.meta.url), { type: 'module' });
export const post = (request: Request) => worker.postMessage(request);

/** What the worker said before the engine listened: its messages, or that it stopped. */
const early: ({ message: Response } | { error: string })[] = [];
worker.onmessage = ({ data }: MessageEvent<Response>) => early.push({ message: data });
worker.onerror = (e) => void early.push({ error: e.message });

/** Hands the worker's messages (those already in, then each as it comes) and its failure to the engine. */
export function listen(receive: (message: Response) => void, fail: (error: string) => void) {
  worker.onmessage = ({ data }: MessageEvent<Response>) => receive(data);
  worker.onerror = (e) => fail(e.message);
  for (const said of early.splice(0)) {
    if ('message' in said) receive(said.message);
    else fail(said.error);
  }
}

export function startModel() {
  useStore.setState({ model: { phase: 'loading', loaded: 0, total: 0, startedAt: performance.now() } });
  post({
    type: 'load',
    modelUrl: new URL(`models/${MODEL_NAME}/`, document.baseURI).href,
    wasmPaths: new URL('tfjs-wasm/', document.baseURI).href,
    threads,
    backends,
  });
}
