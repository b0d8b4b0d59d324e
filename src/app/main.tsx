import { showFirstPaint } from './first-paint/firstPaint';
import { startModel } from './modelWorker';
import './styles.css';

/**
 * The model's worker starts first: its backend's start and the weights' downloads are the page's longest
 * path (src/app/modelWorker.ts). The example's photos and arrows need none of the app (React), only the
 * preloaded files, so they are drawn next (src/app/first-paint/). The app's chunk downloads meanwhile; it
 * renders once they are on screen, or after `FIRST_VIEW_WAIT_MS` at most (on a slow line the photos may take
 * long).
 */
const FIRST_VIEW_WAIT_MS = 1000;

startModel();
const firstView = Promise.race([showFirstPaint().catch(() => undefined), new Promise((done) => setTimeout(done, FIRST_VIEW_WAIT_MS))]);
void import('./start').then(({ startApp }) => startApp(firstView));
