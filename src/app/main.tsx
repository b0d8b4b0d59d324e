import { showFirstPaint } from './first-paint/firstPaint';
import './styles.css';

/**
 * The example's photos and arrows need none of the app (React, the model's worker), only the preloaded
 * files, so they are drawn first (src/app/first-paint/). The app's chunk downloads meanwhile and starts
 * the model at once; it renders once they are on screen, or after `FIRST_VIEW_WAIT_MS` at most (on a slow
 * line the photos may take long).
 */
const FIRST_VIEW_WAIT_MS = 1000;

const firstView = Promise.race([showFirstPaint().catch(() => undefined), new Promise((done) => setTimeout(done, FIRST_VIEW_WAIT_MS))]);
void import('./start').then(({ startApp }) => startApp(firstView));
