import { useEffect, useState } from 'react';
import { useGallery } from '../gallery/gallery';
import { useStore } from '../store';
import { openExample } from './examples';
import { loadManifest } from './site';
import { photoPath, type Manifest } from './files';
import './examples.css';

/** The example pairs as small thumbnails, the one shown marked, with the photos' credit. */
export function ExampleStrip() {
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const source = useStore((s) => s.images.source?.name);
  const target = useStore((s) => s.images.target?.name);
  // In gallery mode an example shows only its source beside the grid.
  const inGallery = useGallery((g) => g.on);
  useEffect(() => {
    void loadManifest().then(setManifest);
  }, []);
  if (!manifest || manifest.pairs.length === 0) return null;

  return (
    <nav className="examples" aria-label="Examples" data-testid="examples">
      <span className="examples-title">Examples</span>
      {manifest.pairs.map((pair, k) => (
        <button
          key={pair.source}
          type="button"
          className="example"
          aria-pressed={pair.source === source && (inGallery || pair.target === target)}
          aria-label={`Example: ${pair.label}`}
          title={
            inGallery
              ? `${pair.label}: a Caltech-101 photo with pins, carried onto ${pair.gallery.length + 1} more`
              : `${pair.label}: two Caltech-101 photos, matched before the model has even loaded`
          }
          onClick={() => void openExample(k, true)}
        >
          <img src={photoPath(pair.source)} alt="" />
          <img src={photoPath(pair.target)} alt="" />
          <span className="example-label">{pair.label}</span>
        </button>
      ))}
      <small className="examples-credit">
        Photos: Caltech-101,{' '}
        <a href={manifest.licenceUrl} target="_blank" rel="noreferrer">
          {manifest.licence}
        </a>
      </small>
    </nav>
  );
}
