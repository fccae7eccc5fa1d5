// Entry point: render the app, then load the scenario library and the default scenario.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App.tsx';
import { actions, store } from './store/index.ts';
import { start } from './ui/record/recorder.ts';
import './ui/styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
// A handle for benchmarks and the browser console (read state, drive actions); the page never uses it.
(window as unknown as { irqflow: unknown }).irqflow = { store, actions };
// a shared link, `?scenario=`, the session kept before a reload, or the default scenario
void start();
