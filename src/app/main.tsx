import { showFirstPaint } from './first-paint/firstPaint';
import './styles.css';

/**
 * The example's photos and arrows need none of the app (React, the model's worker), only the preloaded
 * files, so they are drawn first (src/app/first-paint/). The app's chunk downloads meanwhile and starts
 * once they are on screen, or after `APP_WAIT_MS` at most: on a slow line the model's download must not
 * wait for the photos.
 */
const APP_WAIT_MS = 1000;

void Promise.race([showFirstPaint().catch(() => undefined), new Promise((done) => setTimeout(done, APP_WAIT_MS))]).then(
  () => import('./start'),
);
