import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startModel } from './engine';
import { openFirstExample } from './examples/examples';

/**
 * The backend starts and the example's files download at once; React's first render, the page's longest
 * task, waits for `firstView` (the example's first view on screen: src/app/first-paint/).
 */
export function startApp(firstView: Promise<unknown>) {
  startModel();
  openFirstExample();
  void firstView.then(() =>
    createRoot(document.getElementById('root')!).render(
      <StrictMode>
        <App />
      </StrictMode>,
    ),
  );
}
