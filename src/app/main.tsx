import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { registerServiceWorker } from './pwa/register-service-worker.ts';
import { tuneCryptoForBrowser } from '../platform/browser-crypto.ts';
import { createBrowserMessenger } from '../platform/browser-messenger.ts';
import './styles.css';

tuneCryptoForBrowser();
const serviceWorker = registerServiceWorker();
const petrel = createBrowserMessenger();
void petrel.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App updates={serviceWorker?.updates ?? null} messenger={petrel.api} />
  </StrictMode>,
);
