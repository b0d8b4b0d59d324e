import { beforeEach, describe, expect, it } from 'vitest';
import { addPin, movePin, setImage, setSettings, useStore, type PaneImage } from '../store';
import { scalesKey } from './scales';

const photo = (name: string): Omit<PaneImage, 'version'> => ({
  name,
  width: 300,
  height: 200,
  bitmap: { close() {}, width: 300, height: 200 } as unknown as ImageBitmap,
  digest: name,
});

const initial = useStore.getState();
beforeEach(() => useStore.setState(initial, true));

describe('scalesKey', () => {
  it('asks nothing while the view is hidden, no pin is selected or an image is missing', () => {
    setImage('source', photo('a.jpg'));
    addPin('source', { x: 10, y: 20 });
    useStore.setState({ scalesShown: true });
    expect(scalesKey(useStore.getState())).toBeNull();
    setImage('target', photo('b.jpg'));
    expect(scalesKey(useStore.getState())).not.toBeNull();
    useStore.setState({ selectedPin: null });
    expect(scalesKey(useStore.getState())).toBeNull();
    useStore.setState({ selectedPin: useStore.getState().pins[0].id, scalesShown: false });
    expect(scalesKey(useStore.getState())).toBeNull();
  });

  it('changes with the pin and with flip averaging, not with the mode or scale (all scales are shown)', () => {
    setImage('source', photo('a.jpg'));
    setImage('target', photo('b.jpg'));
    addPin('source', { x: 10, y: 20 });
    useStore.setState({ scalesShown: true });
    const first = scalesKey(useStore.getState());
    setSettings({ scale: 1, mode: 'mmnet' });
    expect(scalesKey(useStore.getState())).toBe(first);
    setSettings({ flip: true });
    expect(scalesKey(useStore.getState())).not.toBe(first);
    setSettings({ flip: false });
    movePin(useStore.getState().pins[0].id, { x: 11, y: 20 });
    expect(scalesKey(useStore.getState())).not.toBe(first);
  });
});
