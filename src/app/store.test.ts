import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { QueryResult } from './protocol';
import { addPin, dismiss, pinLabel, renamePin, setImage, swapImages, undoReplace, UNDO_MS, useStore, type PaneImage } from './store';

/** A stand-in for a decoded image; `closed` says whether its bitmap was released. */
function photo(name: string, width = 300, height = 200) {
  const bitmap = { close: vi.fn(), width, height } as unknown as ImageBitmap;
  const image: Omit<PaneImage, 'version'> = { name, width, height, bitmap, digest: name };
  return { image, closed: () => (bitmap.close as ReturnType<typeof vi.fn>).mock.calls.length > 0 };
}

const state = useStore.getState;
const initial = state();
const answered = (key: string) =>
  ({ key, query: { x: 0, y: 0 }, match: { x: 1, y: 1 }, probability: 0.5, backError: 0, consistent: true }) as QueryResult;

/** Marks every pin answered, as the engine does after a query. */
const answerAll = () => useStore.setState((s) => ({ pins: s.pins.map((p) => ({ ...p, result: answered(`k${p.id}`) })) }));

beforeEach(() => {
  vi.useFakeTimers();
  useStore.setState(initial, true);
});
afterEach(() => vi.useRealTimers());

describe('a new image and the pins', () => {
  it('a new source clears the source pins, says so, and Undo brings back the old source with its pins', () => {
    const first = photo('motorbike.jpg');
    const second = photo('leopard.jpg');
    setImage('source', first.image);
    setImage('target', photo('other.jpg').image);
    addPin('source', { x: 10, y: 20 });
    addPin('source', { x: 30, y: 40 });
    answerAll();

    setImage('source', second.image);
    expect(state().pins).toEqual([]);
    expect(state().images.source?.name).toBe('leopard.jpg');
    expect(state().notices).toEqual([expect.objectContaining({ text: '2 pins cleared', undo: true })]);
    expect(first.closed()).toBe(false);

    expect(undoReplace()).toBe('source');
    expect(state().images.source?.name).toBe('motorbike.jpg');
    expect(state().images.source?.encodeMs).toBeUndefined();
    expect(state().pins.map((p) => p.point)).toEqual([
      { x: 10, y: 20 },
      { x: 30, y: 40 },
    ]);
    // Matched again: the restored image is a new version.
    expect(state().pins.every((p) => p.result === undefined)).toBe(true);
    expect(state().notices).toEqual([]);
    expect(second.closed()).toBe(true);
    expect(first.closed()).toBe(false);
    expect(undoReplace()).toBeUndefined();
  });

  it('the replaced image is released when its notice times out or is dismissed', () => {
    const first = photo('a.jpg');
    setImage('source', first.image);
    addPin('source', { x: 1, y: 1 });
    setImage('source', photo('b.jpg').image);
    vi.advanceTimersByTime(UNDO_MS - 1);
    expect(first.closed()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(first.closed()).toBe(true);
    expect(state().notices).toEqual([]);
    expect(undoReplace()).toBeUndefined();

    const third = photo('c.jpg');
    addPin('source', { x: 2, y: 2 });
    const current = state().images.source!;
    setImage('source', third.image);
    expect(current.bitmap.close).not.toHaveBeenCalled();
    dismiss(state().notices[0].id);
    expect(current.bitmap.close).toHaveBeenCalled();
    expect(state().replaced).toBeNull();
  });

  it('a new source without pins on it releases the old image at once, with no notice', () => {
    const first = photo('a.jpg');
    setImage('source', first.image);
    setImage('source', photo('b.jpg').image);
    expect(first.closed()).toBe(true);
    expect(state().notices).toEqual([]);
  });

  it('a new target keeps the source pins and has them matched again', () => {
    const oldTarget = photo('t1.jpg');
    setImage('source', photo('s.jpg').image);
    setImage('target', oldTarget.image);
    addPin('source', { x: 5, y: 6 });
    answerAll();
    const [pin] = state().pins;

    setImage('target', photo('t2.jpg').image);
    expect(state().pins).toEqual([{ ...pin, result: undefined }]);
    expect(state().selectedPin).toBe(pin.id);
    expect(state().notices).toEqual([]);
    expect(oldTarget.closed()).toBe(true);
  });

  it('pins placed on the target go with a new target; source pins stay', () => {
    setImage('source', photo('s.jpg').image);
    setImage('target', photo('t1.jpg').image);
    addPin('source', { x: 1, y: 1 });
    addPin('target', { x: 2, y: 2 });
    setImage('target', photo('t2.jpg').image);
    expect(state().pins.map((p) => p.side)).toEqual(['source']);
    expect(state().notices).toEqual([expect.objectContaining({ text: 'Pin cleared', undo: true })]);
    undoReplace();
    expect(state().images.target?.name).toBe('t1.jpg');
    expect(
      state()
        .pins.map((p) => p.side)
        .sort(),
    ).toEqual(['source', 'target']);
  });

  it('swap keeps the pins with their images, and Undo follows the image that moved', () => {
    setImage('source', photo('s.jpg').image);
    setImage('target', photo('t.jpg').image);
    addPin('source', { x: 7, y: 8 });
    swapImages();
    expect(state().images.target?.name).toBe('s.jpg');
    expect(state().pins.map((p) => [p.side, p.point])).toEqual([['target', { x: 7, y: 8 }]]);

    setImage('target', photo('n.jpg').image);
    swapImages();
    expect(state().images.source?.name).toBe('n.jpg');
    expect(undoReplace()).toBe('source');
    expect(state().images.source?.name).toBe('s.jpg');
    expect(state().pins.map((p) => [p.side, p.point])).toEqual([['source', { x: 7, y: 8 }]]);
  });
});

describe('pins', () => {
  it('a dozen pins have a dozen different colours', () => {
    for (let n = 0; n < 12; n++) addPin('source', { x: n, y: n });
    expect(new Set(state().pins.map((p) => p.color)).size).toBe(12);
  });

  it('is called "pin N" until renamed, then by its name (blank names fall back)', () => {
    addPin('source', { x: 1, y: 1 });
    const { id } = state().pins[0];
    expect(pinLabel(state().pins[0])).toBe(`pin ${id}`);
    renamePin(id, 'left eye');
    expect(pinLabel(state().pins[0])).toBe('left eye');
    renamePin(id, '   ');
    expect(pinLabel(state().pins[0])).toBe(`pin ${id}`);
  });
});
