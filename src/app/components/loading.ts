/** What the waiting states say, in words: the model's download, an encode, a pin waiting for either. */
import type { AppState, ModelStatus, PaneImage } from '../store';

const MB = 1e6;
/** Before this much of the download, its rate says little about the time left. */
const RATE_AFTER_MS = 500;

/**
 * "Downloading the model: 8.1 of 22.8 MB · about 6 s left · saved for the next visit", or, from the
 * browser's cache, "Loading the model from this browser's cache… 40%".
 */
export function downloadStatus({ loaded, total, fromCache, elapsedMs: elapsed = 0 }: ModelStatus): string {
  if (!total) return 'Starting the model…';
  if (loaded >= total)
    return fromCache ? "Preparing the model from this browser's cache…" : 'Preparing the model (downloaded, saved for the next visit)…';
  if (fromCache) return `Loading the model from this browser's cache… ${Math.round((100 * loaded) / total)}%`;
  const left = elapsed > RATE_AFTER_MS && loaded > 0 ? ((total - loaded) * elapsed) / loaded / 1000 : undefined;
  return [
    `Downloading the model: ${(loaded / MB).toFixed(1)} of ${(total / MB).toFixed(1)} MB`,
    left !== undefined && `about ${Math.ceil(left)} s left`,
    'saved for the next visit',
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * "Encoding… 40%", or why it has not begun or finished: the model is still on its way. Before the model is
 * ready only the trunk runs (the head's weights come last): at its end the photo waits for the rest.
 */
export function encodingStatus({ encodeProgress }: PaneImage, model: ModelStatus): string {
  const loading = model.phase === 'loading';
  if (encodeProgress === undefined) return loading ? 'Waiting for the model…' : 'Encoding…';
  if (loading && encodeProgress >= 1) return 'Encoding… waiting for the rest of the model';
  return `Encoding… ${Math.round(100 * encodeProgress)}%`;
}

/**
 * The hint for a pin that has no answer yet: it is queued, and says for what. Undefined when nothing is
 * waiting (the pin's answer is simply on its way).
 */
export function waitingHint({ images, model, settings }: AppState): string | undefined {
  const encoding = (['source', 'target'] as const).filter((side) => images[side] && images[side].encodeMs === undefined);
  if (encoding.length > 0)
    return `Pin placed: it is matched as soon as the ${encoding.length === 2 ? 'photos are' : `${encoding[0]} photo is`} encoded.`;
  const shipped = images.source?.shipped && images.target?.shipped && !settings.flip;
  if (model.phase === 'loading' && !shipped) return 'Pin placed: it is matched as soon as the model has loaded.';
  return undefined;
}
