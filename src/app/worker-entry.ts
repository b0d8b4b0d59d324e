/**
 * The model worker's entry, what the page starts (modelWorker.ts). Its own code is small (no tfjs), so it runs
 * as soon as the page makes the worker: on the page's `load` it starts the model's download (model.json, then
 * the shards from Cache Storage or the network) while tfjs and the model's code (worker.ts, a separate chunk)
 * still download, then hands that code the download and every message so far.
 */
import { downloadModel, type ModelDownload } from '../model/download';
import { MODEL_CACHE, type Request } from './protocol';

const earlier: Request[] = [];
let download: ModelDownload | undefined;
self.onmessage = ({ data }: MessageEvent<Request>) => {
  if (data.type === 'load') download ??= downloadModel(data.modelUrl, { cacheName: MODEL_CACHE });
  earlier.push(data);
};

import('./worker').then(
  ({ takeOver }) => takeOver(download, earlier),
  // Thrown from a task of its own, so that the page's `onerror` hears of it, as of a script that failed to load.
  (e: unknown) =>
    setTimeout(() => {
      throw e;
    }),
);
