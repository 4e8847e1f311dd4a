/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** STUN/TURN servers, a JSON array like RTCConfiguration.iceServers (docs/OPERATIONS.md). */
  readonly VITE_PETREL_ICE_SERVERS?: string;
}
