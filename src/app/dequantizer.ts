import type { DequantizeElsewhere } from '../model/index';
import type { TensorStorage } from '../model/quantization';

/** A tensor for the helper (dequantize-worker.ts): its stored bytes, and where its values go. */
export interface DequantizeJob {
  id: number;
  bytes: Uint8Array;
  shape: readonly number[];
  storage: TensorStorage;
  out: Float32Array;
}

/** What the helper says of a job. */
interface DequantizeAnswer {
  id: number;
  error?: string;
}

/**
 * How long the helper may leave work unanswered before it is given up (its tensors are then decoded on the
 * load's own thread): a tensor takes it milliseconds, its start tens. A helper that never ran, without an
 * error event, would otherwise hold the load for ever.
 */
export const HELPER_SILENCE_MS = 3000;

/**
 * A helper worker that decodes the weights for a load (`WeightLoadOptions.dequantizeElsewhere`), on the
 * second core, while the model worker builds the operators of those already decoded. It writes straight
 * into threaded wasm's heap, which is shared memory: a job whose view is not (single-threaded wasm) is
 * refused at once, as are all of them once the helper failed or fell silent, and the load decodes those itself.
 * Undefined where the page is not cross-origin isolated (no shared memory at all). `close` when the load is over.
 */
export function startDequantizer(): { dequantize: DequantizeElsewhere; close(): void } | undefined {
  if (!globalThis.crossOriginIsolated) return undefined;
  let helper: Worker;
  try {
    helper = new Worker(new URL('./dequantize-worker.ts', import.meta.url), { type: 'module', name: 'dequantize' });
  } catch {
    // A host's policy that forbids it (CSP worker-src): the load decodes on its own thread.
    return undefined;
  }
  const jobs = new Map<number, { done(): void; fail(error: Error): void }>();
  let nextId = 0;
  let broken: Error | undefined;
  let silence: ReturnType<typeof setTimeout> | undefined;
  const failAll = (error: Error) => {
    broken ??= error;
    clearTimeout(silence);
    helper.terminate();
    for (const job of jobs.values()) job.fail(error);
    jobs.clear();
  };
  /** (Re)starts the wait for the helper's next answer, while it has work. */
  const awaitAnswer = () => {
    clearTimeout(silence);
    silence = jobs.size > 0 ? setTimeout(() => failAll(new Error('the decoding helper stopped answering')), HELPER_SILENCE_MS) : undefined;
  };
  helper.onmessage = ({ data: { id, error } }: MessageEvent<DequantizeAnswer>) => {
    const job = jobs.get(id);
    jobs.delete(id);
    awaitAnswer();
    if (error === undefined) job?.done();
    else job?.fail(new Error(error));
  };
  helper.onerror = (event) => {
    event.preventDefault();
    failAll(new Error(`the decoding helper failed: ${event.message}`));
  };
  helper.onmessageerror = () => failAll(new Error('the decoding helper could not read a message'));
  return {
    dequantize: (bytes, shape, storage, out) =>
      new Promise((done, fail) => {
        if (broken) return fail(broken);
        if (!(out.buffer instanceof SharedArrayBuffer)) return fail(new Error('the heap is not shared memory'));
        const id = nextId++;
        jobs.set(id, { done, fail });
        if (silence === undefined) awaitAnswer();
        // A view of shared memory is shared, not copied; of any other buffer, the whole buffer would be.
        const shared = bytes.buffer instanceof SharedArrayBuffer ? bytes : bytes.slice();
        helper.postMessage({ id, bytes: shared, shape, storage, out } satisfies DequantizeJob, shared === bytes ? [] : [shared.buffer]);
      }),
    close: () => failAll(new Error('the load is over')),
  };
}
