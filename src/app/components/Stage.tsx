import { useEffect, useRef } from 'react';
import { openImage } from '../engine';
import { startModel } from '../modelWorker';
import { gridShown, useGallery } from '../gallery/gallery';
import { useStore } from '../store';
import { downloadStatus } from './loading';
import { GalleryGrid } from '../gallery/Gallery';
import { Overlay } from './Overlay';
import { Pane } from './Pane';

/** The two panes with the overlay across them; also takes pasted images. */
export function Stage() {
  const ref = useRef<HTMLDivElement>(null);
  const grid = useGallery(gridShown);
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
      if (!file) return;
      e.preventDefault();
      // Into the focused pane; otherwise the first empty one; otherwise the target.
      const focused = document.activeElement?.closest<HTMLElement>('[data-frame]')?.dataset.frame;
      const { images } = useStore.getState();
      const side = focused === 'source' || focused === 'target' ? focused : !images.source ? 'source' : 'target';
      openImage(side, file, file.name || 'pasted image');
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, []);

  return (
    <div className="stage" ref={ref}>
      <Pane side="source" />
      {grid ? <GalleryGrid /> : <Pane side="target" />}
      <Overlay stage={ref} />
      <ModelProgress />
    </div>
  );
}

/**
 * Covers empty panes while the model downloads, or says why it cannot. Photos being shown (the example,
 * matched meanwhile) stay uncovered: the status bar tells the download then.
 */
function ModelProgress() {
  const model = useStore((s) => s.model);
  const shown = useStore((s) => !!(s.images.source || s.images.target));
  if (model.phase === 'ready' || (model.phase === 'loading' && shown)) return null;
  return (
    <div className="model-progress" role="status" data-testid="model-progress">
      {model.phase === 'loading' ? (
        <>
          <p>{downloadStatus(model)}</p>
          <progress max={model.total || 1} value={model.loaded} />
        </>
      ) : (
        <>
          <p className="error">The model could not be loaded: {model.message}</p>
          <p>
            <button type="button" onClick={startModel}>
              Try again
            </button>
          </p>
        </>
      )}
    </div>
  );
}
