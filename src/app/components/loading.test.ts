import { describe, expect, it } from 'vitest';
import { useStore } from '../store';
import { downloadStatus, encodingStatus, waitingHint } from './loading';

describe('downloadStatus', () => {
  const total = 23.9e6;
  it('names the size before any byte has arrived, and that the model is kept', () => {
    expect(downloadStatus({ phase: 'loading', loaded: 0, total, elapsedMs: 100 })).toBe(
      'Downloading the model: 0.0 of 23.9 MB · saved for the next visit',
    );
  });

  it('estimates the time left from the rate so far', () => {
    // 6 MB in 2 s: 17.9 MB more take about 6 s.
    expect(downloadStatus({ phase: 'loading', loaded: 6e6, total, elapsedMs: 2000 })).toBe(
      'Downloading the model: 6.0 of 23.9 MB · about 6 s left · saved for the next visit',
    );
  });

  it('says where the bytes come from on a return visit, and when they are all in', () => {
    expect(downloadStatus({ phase: 'loading', loaded: 12e6, total, fromCache: true })).toBe(
      "Loading the model from this browser's cache… 50%",
    );
    expect(downloadStatus({ phase: 'loading', loaded: total, total, elapsedMs: 9000 })).toMatch(/^Preparing the model/);
    expect(downloadStatus({ phase: 'loading', loaded: 0, total: 0 })).toBe('Starting the model…');
  });
});

describe('waitingHint', () => {
  const image = { name: 'a.jpg', width: 10, height: 10, bitmap: {} as ImageBitmap, version: 1, digest: 'x' };
  const state = (patch: object) => ({ ...useStore.getState(), ...patch });

  it('says a pin waits for an encode, then for the model, and nothing once either can answer', () => {
    const loading = { phase: 'loading' as const, loaded: 0, total: 1 };
    expect(waitingHint(state({ model: loading, images: { source: { ...image, encodeMs: 5 }, target: image } }))).toBe(
      'Pin placed: it is matched as soon as the target photo is encoded.',
    );
    expect(waitingHint(state({ model: loading, images: { source: { ...image, encodeMs: 5 }, target: { ...image, encodeMs: 5 } } }))).toBe(
      'Pin placed: it is matched as soon as the model has loaded.',
    );
    const shipped = { ...image, encodeMs: 5, shipped: true };
    expect(waitingHint(state({ model: loading, images: { source: shipped, target: shipped } }))).toBeUndefined();
    expect(
      waitingHint(state({ model: { ...loading, phase: 'ready' }, images: { source: shipped, target: { ...image, encodeMs: 5 } } })),
    ).toBeUndefined();
  });
});

describe('encodingStatus', () => {
  const image = { name: 'a.jpg', width: 10, height: 10, bitmap: {} as ImageBitmap, version: 1, digest: 'x' };
  it('shows how far the encode has come, or that it waits for the model', () => {
    expect(encodingStatus({ ...image, encodeProgress: 0.4 }, { phase: 'ready', loaded: 1, total: 1 })).toBe('Encoding… 40%');
    expect(encodingStatus(image, { phase: 'loading', loaded: 0, total: 1 })).toBe('Waiting for the model…');
    expect(encodingStatus(image, { phase: 'ready', loaded: 1, total: 1 })).toBe('Encoding…');
  });
  it("shows the trunk's progress before the model is ready, then that the photo waits for the rest of it", () => {
    const loading = { phase: 'loading', loaded: 5, total: 10 } as const;
    expect(encodingStatus({ ...image, encodeProgress: 0.5 }, loading)).toBe('Encoding… 50%');
    expect(encodingStatus({ ...image, encodeProgress: 1 }, loading)).toBe('Encoding… waiting for the rest of the model');
    expect(encodingStatus({ ...image, encodeProgress: 1 }, { phase: 'ready', loaded: 1, total: 1 })).toBe('Encoding… 100%');
  });
});
