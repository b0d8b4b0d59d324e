import { Controls } from './components/Controls';
import { GalleryBar } from './components/Gallery';
import { Inspector } from './components/Inspector';
import { Notices } from './components/Notices';
import { Stage } from './components/Stage';
import { StatusBar } from './components/StatusBar';
import { embedded } from './params';
import { useStore } from './store';

export function App() {
  const phase = useStore((s) => s.model.phase);
  return (
    <div className={embedded ? 'app embedded' : 'app'} data-model={phase}>
      {!embedded && (
        <header className="app-header">
          <h1>MMNet: semantic correspondence in the browser</h1>
          <p>
            Drop two images of the same kind of object, then click a point on the left to find its counterpart on the right.
            Everything runs on this page; no image leaves your computer.
          </p>
        </header>
      )}
      <Controls />
      <GalleryBar />
      <Stage />
      {!embedded && <Inspector />}
      {!embedded && <StatusBar />}
      <Notices />
    </div>
  );
}
