/**
 * STUN/TURN servers for a deployment, from the JSON the deployer sets at build time in
 * `VITE_PETREL_ICE_SERVERS` (docs/OPERATIONS.md, "WebRTC ICE servers"): the same shape
 * as `RTCConfiguration.iceServers`. Entries the browser would refuse are dropped and
 * reported, so one typo costs that server, not the app (the relay still carries
 * everything when no direct connection can be made).
 */
import type { IceServer } from './webrtc-connector.ts';

export interface IceConfig {
  readonly servers: readonly IceServer[];
  /** What was wrong with the setting, one line per problem (never the credentials). */
  readonly problems: readonly string[];
}

/** The URL schemes of RFC 7064 (STUN) and RFC 7065 (TURN). */
const ICE_URL = /^(stuns?|turns?):[^\s]+$/i;
const NEEDS_CREDENTIALS = /^turns?:/i;

function parseEntry(entry: unknown, where: string): IceServer | string {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return `${where}: not an object`;
  const { urls, username, credential } = entry as Record<string, unknown>;
  const list = typeof urls === 'string' ? [urls] : Array.isArray(urls) ? urls : undefined;
  if (!list || list.length === 0) return `${where}: "urls" must be a URL or a non-empty list of URLs`;
  for (const url of list) {
    if (typeof url !== 'string' || !ICE_URL.test(url)) return `${where}: ${JSON.stringify(url)} is not a stun:, stuns:, turn: or turns: URL`;
  }
  if (username !== undefined && typeof username !== 'string') return `${where}: "username" must be a string`;
  if (credential !== undefined && typeof credential !== 'string') return `${where}: "credential" must be a string`;
  if ((list as string[]).some((u) => NEEDS_CREDENTIALS.test(u)) && (!username || !credential)) {
    return `${where}: TURN servers need "username" and "credential"`;
  }
  return {
    urls: typeof urls === 'string' ? urls : [...(list as string[])],
    ...(username !== undefined ? { username } : {}),
    ...(credential !== undefined ? { credential } : {}),
  };
}

export function parseIceServers(raw: string | undefined): IceConfig {
  if (raw === undefined || raw.trim() === '') return { servers: [], problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { servers: [], problems: ['VITE_PETREL_ICE_SERVERS is not valid JSON'] };
  }
  if (!Array.isArray(parsed)) return { servers: [], problems: ['VITE_PETREL_ICE_SERVERS must be a JSON array of ICE servers'] };
  const servers: IceServer[] = [];
  const problems: string[] = [];
  parsed.forEach((entry, i) => {
    const result = parseEntry(entry, `VITE_PETREL_ICE_SERVERS[${i}]`);
    if (typeof result === 'string') problems.push(result);
    else servers.push(result);
  });
  return { servers, problems };
}
