import { describe, expect, it } from 'vitest';
import { parseIceServers } from '../../src/platform/webrtc/ice-config.ts';

describe('VITE_PETREL_ICE_SERVERS', () => {
  it('unset or blank: no servers, nothing to report (direct paths on the LAN only)', () => {
    expect(parseIceServers(undefined)).toEqual({ servers: [], problems: [] });
    expect(parseIceServers('  ')).toEqual({ servers: [], problems: [] });
  });

  it('takes STUN and TURN servers in RTCConfiguration.iceServers form', () => {
    const raw = JSON.stringify([
      { urls: 'stun:stun.example.org:3478' },
      { urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'], username: 'petrel', credential: 's3cret' },
    ]);
    expect(parseIceServers(raw)).toEqual({
      servers: [
        { urls: 'stun:stun.example.org:3478' },
        { urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'], username: 'petrel', credential: 's3cret' },
      ],
      problems: [],
    });
  });

  it('drops only the entries a browser would refuse, saying which and why', () => {
    const raw = JSON.stringify([
      { urls: 'stun:ok.example.org' },
      { urls: 'https://not-ice.example.org' },
      { urls: 'turn:turn.example.org' },
      { urls: [] },
      'stun:bare-string.example.org',
      { urls: 'stun:x.example.org', username: 7 },
      { urls: 'turn:turn.example.org', username: 'u', credential: 'hunter2-secret' },
    ]);
    const { servers, problems } = parseIceServers(raw);
    expect(servers).toEqual([{ urls: 'stun:ok.example.org' }, { urls: 'turn:turn.example.org', username: 'u', credential: 'hunter2-secret' }]);
    expect(problems).toEqual([
      'VITE_PETREL_ICE_SERVERS[1]: "https://not-ice.example.org" is not a stun:, stuns:, turn: or turns: URL',
      'VITE_PETREL_ICE_SERVERS[2]: TURN servers need "username" and "credential"',
      'VITE_PETREL_ICE_SERVERS[3]: "urls" must be a URL or a non-empty list of URLs',
      'VITE_PETREL_ICE_SERVERS[4]: not an object',
      'VITE_PETREL_ICE_SERVERS[5]: "username" must be a string',
    ]);
  });

  it('malformed JSON or not an array: no servers and one clear problem, never echoing the value', () => {
    const broken = '[{"urls": "turn:t.example.org", "credential": "hunter2-secret"';
    expect(parseIceServers(broken)).toEqual({ servers: [], problems: ['VITE_PETREL_ICE_SERVERS is not valid JSON'] });
    expect(parseIceServers('{"urls": "stun:s.example.org"}')).toEqual({ servers: [], problems: ['VITE_PETREL_ICE_SERVERS must be a JSON array of ICE servers'] });
    const { problems } = parseIceServers(JSON.stringify([{ urls: 'tur:t.example.org', username: 'u', credential: 'hunter2-secret' }]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain('hunter2');
  });
});
