/** "Try an example": same-category Caltech-101 pairs copied into `examples/` at build time. */
import { openImage } from './engine';

export interface ExamplePair {
  category: string;
  source: string;
  target: string;
}

interface Manifest {
  attribution: string;
  licence: string;
  pairs: ExamplePair[];
}

let manifest: Promise<Manifest | null> | undefined;

/** The manifest, or null where the site was built without examples. Fetched once. */
export function loadManifest(): Promise<Manifest | null> {
  manifest ??= fetch(new URL('examples/manifest.json', document.baseURI))
    .then((r) => (r.ok ? (r.json() as Promise<Manifest>) : null))
    .catch(() => null);
  return manifest;
}

export async function openExample(index: number) {
  const m = await loadManifest();
  if (!m || m.pairs.length === 0) return;
  const pair = m.pairs[index % m.pairs.length];
  const attribution = `Photo: ${m.attribution}.`;
  await Promise.all(
    (['source', 'target'] as const).map(async (side) => {
      const file = pair[side];
      const response = await fetch(new URL(`examples/${file}`, document.baseURI));
      await openImage(side, await response.blob(), file, attribution);
    }),
  );
}
