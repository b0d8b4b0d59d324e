import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HELPER_SILENCE_MS, startDequantizer, type DequantizeJob } from './dequantizer';

/** Stands in for the helper's Worker: keeps what it is sent; a test answers for it. */
class FakeHelper {
  static last: FakeHelper | undefined;
  readonly jobs: DequantizeJob[] = [];
  terminated = false;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: { message: string; preventDefault(): void }) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  constructor() {
    FakeHelper.last = this;
  }
  postMessage(job: DequantizeJob) {
    this.jobs.push(job);
  }
  terminate() {
    this.terminated = true;
  }
  answer(id: number, error?: string) {
    this.onmessage?.({ data: { id, error } });
  }
}

const storage = { dtype: 'float16' } as const;
const sharedOut = () => new Float32Array(new SharedArrayBuffer(8));

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubGlobal('Worker', FakeHelper);
  vi.stubGlobal('crossOriginIsolated', true);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('startDequantizer', () => {
  it('is not started where the page has no shared memory (not cross-origin isolated)', () => {
    vi.stubGlobal('crossOriginIsolated', false);
    expect(startDequantizer()).toBeUndefined();
  });

  it('settles each job by the id the helper answers, and passes shared bytes without a copy', async () => {
    const dequantizer = startDequantizer()!;
    const bytes = new Uint8Array(new SharedArrayBuffer(4));
    const first = dequantizer.dequantize(bytes, [2], storage, sharedOut());
    const second = dequantizer.dequantize(bytes, [2], storage, sharedOut());
    const helper = FakeHelper.last!;
    expect(helper.jobs.map((job) => job.id)).toEqual([0, 1]);
    expect(helper.jobs[0].bytes).toBe(bytes);
    helper.answer(1, 'bad bytes');
    helper.answer(0);
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toThrow('bad bytes');
  });

  it('refuses at once a view that is not shared memory (single-threaded wasm)', async () => {
    const dequantizer = startDequantizer()!;
    await expect(dequantizer.dequantize(new Uint8Array(4), [2], storage, new Float32Array(2))).rejects.toThrow(/not shared/);
    expect(FakeHelper.last!.jobs).toHaveLength(0);
  });

  it('gives up a helper that leaves work unanswered, and refuses every later job', async () => {
    const dequantizer = startDequantizer()!;
    const job = dequantizer.dequantize(new Uint8Array(4), [2], storage, sharedOut());
    const failed = expect(job).rejects.toThrow(/stopped answering/);
    vi.advanceTimersByTime(HELPER_SILENCE_MS - 1);
    expect(FakeHelper.last!.terminated).toBe(false);
    vi.advanceTimersByTime(1);
    await failed;
    expect(FakeHelper.last!.terminated).toBe(true);
    await expect(dequantizer.dequantize(new Uint8Array(4), [2], storage, sharedOut())).rejects.toThrow(/stopped answering/);
  });

  it('waits for a helper that keeps answering, however long the whole load takes', async () => {
    const dequantizer = startDequantizer()!;
    const helper = FakeHelper.last!;
    const jobs = [0, 1, 2].map(() => dequantizer.dequantize(new Uint8Array(4), [2], storage, sharedOut()));
    for (const id of [0, 1, 2]) {
      vi.advanceTimersByTime(HELPER_SILENCE_MS - 1);
      helper.answer(id);
    }
    await expect(Promise.all(jobs)).resolves.toHaveLength(3);
    expect(helper.terminated).toBe(false);
    dequantizer.close();
    expect(helper.terminated).toBe(true);
  });
});
