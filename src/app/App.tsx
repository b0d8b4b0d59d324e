import { Controls } from './components/Controls';
import { UncertainPairNote } from './confidence/Confidence';
import { ExampleStrip } from './examples/ExampleStrip';
import { GalleryBar } from './gallery/Gallery';
import { Inspector } from './components/Inspector';
import { Notices } from './components/Notices';
import { Stage } from './components/Stage';
import { StatusBar } from './components/StatusBar';
import { embedded } from './params';
import { ScalesStrip } from './scales/ScalesStrip';
import { useStore } from './store';

/**
 * Images first: a toolbar, the panes taking the rest of the screen, the multi-scale strip when shown, the
 * example strip, the notices (in the flow, so they never cover the inspector), then one line each for the inspector and the
 * status. Embedded, the status line is left out.
 */
export function App() {
  const phase = useStore((s) => s.model.phase);
  return (
    <div className={embedded ? 'app embedded' : 'app'} data-model={phase}>
      <Controls />
      <GalleryBar />
      <Stage />
      <ScalesStrip />
      {!embedded && <ExampleStrip />}
      <UncertainPairNote />
      <Notices />
      <Inspector />
      {!embedded && <StatusBar />}
    </div>
  );
}
