import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { registerServiceWorker } from './pwa/register-service-worker.ts';
import { createBrowserMessenger } from '../platform/browser-messenger.ts';
import { parseIceServers } from '../platform/webrtc/ice-config.ts';
import './styles.css';

const serviceWorker = registerServiceWorker();
// Set when building (docs/OPERATIONS.md, "WebRTC ICE servers"); none: LAN-only direct paths.
const ice = parseIceServers(import.meta.env.VITE_PETREL_ICE_SERVERS);
const petrel = createBrowserMessenger(window, 'default', { iceServers: ice.servers, configProblems: ice.problems });
void petrel.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App updates={serviceWorker?.updates ?? null} messenger={petrel.api} drafts={petrel.drafts} />
  </StrictMode>,
);
