import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { openFirstExample } from './examples/examples';

/**
 * The example's files download at once (the model started with the page: main.tsx); React's first render,
 * the page's longest task, waits for `firstView` (the example's first view on screen: src/app/first-paint/).
 */
export function startApp(firstView: Promise<unknown>) {
  openFirstExample();
  void firstView.then(() =>
    createRoot(document.getElementById('root')!).render(
      <StrictMode>
        <App />
      </StrictMode>,
    ),
  );
}
