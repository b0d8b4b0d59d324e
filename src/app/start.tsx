import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startModel } from './engine';
import { openFirstExample } from './examples/examples';

// The backend starts and the example's files download while React renders the page.
startModel();
openFirstExample();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
