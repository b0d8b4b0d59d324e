/** Keeps the multi-scale view answered: one `scales` request at a time, for the latest selected pin. */
import { post, worker } from '../modelWorker';
import type { Response } from '../protocol';
import { selectedPin, useStore } from '../store';
import { scalesKey, useScales } from './scales';

let nextId = 1;
let inFlight: { id: number; key: string } | null = null;

function ask() {
  const state = useStore.getState();
  const key = scalesKey(state);
  if (inFlight || key === null || key === useScales.getState().key || state.model.phase !== 'ready') return;
  const encoded = state.images.source?.encodeMs !== undefined && state.images.target?.encodeMs !== undefined;
  if (!encoded) return;
  const pin = selectedPin(state)!;
  inFlight = { id: nextId++, key };
  post({ type: 'scales', id: inFlight.id, side: pin.side, point: pin.point, flip: state.settings.flip });
}

function receive(message: Response) {
  if (message.type !== 'scales' || message.id !== inFlight?.id) return;
  const { key } = inFlight;
  inFlight = null;
  useScales.setState({ key, rows: message.rows, error: message.error });
  ask();
}

useStore.subscribe(ask);
worker.addEventListener('message', ({ data }: MessageEvent<Response>) => receive(data));
