/**
 * Page options from the URL: `?embed=1` (panes and controls only), `?backend=wasm` or `?backend=webgl,wasm`,
 * `?threads=1` (wasm threads; default one per core), `?example=none` (open on empty panes) or `?example=2`
 * (open on that example pair; default the first).
 */
import { BACKEND_ORDER } from '../model/constants';
import type { BackendName } from '../model/types';

const params = new URLSearchParams(location.search);

export const embedded = params.has('embed') && params.get('embed') !== '0';

/** This page without `embed`: the link from an embedded view to the full app. */
export const fullAppUrl = (() => {
  const url = new URL(location.href);
  url.searchParams.delete('embed');
  return url.href;
})();

export const backends: BackendName[] | undefined = params
  .get('backend')
  ?.split(',')
  .filter((name): name is BackendName => (BACKEND_ORDER as readonly string[]).includes(name));

const threadsParam = Number(params.get('threads'));
export const threads: number | undefined = threadsParam >= 1 ? threadsParam : undefined;

/** The example pair the page opens on, or null for none. */
export const exampleParam: number | null =
  params.get('example') === 'none' ? null : Math.max(0, Math.floor(Number(params.get('example')) || 0));
