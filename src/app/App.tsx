import { Controls } from './components/Controls';
import { EmbedConfidence, UncertainPairNote } from './confidence/Confidence';
import { GalleryBar } from './gallery/Gallery';
import { Inspector } from './components/Inspector';
import { Notices } from './components/Notices';
import { Stage } from './components/Stage';
import { StatusBar } from './components/StatusBar';
import { embedded } from './params';
import { useStore } from './store';

/** Images first: a toolbar, the panes taking the rest of the screen, then one line each for the inspector and the status. */
export function App() {
  const phase = useStore((s) => s.model.phase);
  return (
    <div className={embedded ? 'app embedded' : 'app'} data-model={phase}>
      <Controls />
      <GalleryBar />
      <Stage />
      <UncertainPairNote />
      {embedded ? <EmbedConfidence /> : <Inspector />}
      {!embedded && <StatusBar />}
      <Notices />
    </div>
  );
}
