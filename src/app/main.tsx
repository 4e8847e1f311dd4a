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

// The first paint is the right screen (onboarding, or the list as it was), not "Opening
// Petrel…": the decision is a Web Storage read or one quick question to the browser, and
// never holds the first paint past FIRST_SCREEN_WAIT_MS.
const FIRST_SCREEN_WAIT_MS = 200;
void Promise.race([petrel.firstScreen, new Promise((wait) => setTimeout(wait, FIRST_SCREEN_WAIT_MS))]).then(() =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App updates={serviceWorker?.updates ?? null} messenger={petrel.api} drafts={petrel.drafts} />
    </StrictMode>,
  ),
);
