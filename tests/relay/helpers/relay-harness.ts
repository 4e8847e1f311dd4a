import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type RelayConfig } from '../../../src/relay/config.ts';
import { createLogger } from '../../../src/relay/logger.ts';
import { startRelay, type Relay, type RelayDependencies } from '../../../src/relay/server.ts';

export interface TestRelay {
  readonly relay: Relay;
  readonly config: RelayConfig;
  readonly url: string;
  readonly http: string;
  readonly dataDir: string;
  /** Everything the relay logged (JSON lines). */
  logs(): string;
  /** Stops the relay; `keepData` leaves the data dir for a restart. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'petrel-relay-'));
}

/** Env defaults for tests: loopback, ephemeral port, generous limits unless a test lowers them. */
export function testEnv(dataDir: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    PETREL_DATA_DIR: dataDir,
    PETREL_APP_DIR: join(dataDir, 'no-app'),
    PETREL_LOG_LEVEL: 'debug',
    PETREL_CONN_FRAMES_PER_SEC: '100000',
    PETREL_CONN_FRAME_BURST: '100000',
    PETREL_IP_DEPOSITS_PER_SEC: '100000',
    PETREL_IP_DEPOSIT_BURST: '100000',
    PETREL_IP_FETCHES_PER_SEC: '100000',
    PETREL_IP_FETCH_BURST: '100000',
    PETREL_MAX_CONNECTIONS_PER_IP: '1000',
    PETREL_CONN_DEPOSITS_PER_SEC: '100000',
    PETREL_CONN_DEPOSIT_BURST: '100000',
    PETREL_IP_DEPOSIT_BYTES_PER_SEC: String(2 ** 40),
    PETREL_IP_DEPOSIT_BYTE_BURST: String(2 ** 40),
    PETREL_CONN_DEPOSIT_BYTES_PER_SEC: String(2 ** 40),
    PETREL_CONN_DEPOSIT_BYTE_BURST: String(2 ** 40),
    PETREL_IP_SIGNALS_PER_SEC: '100000',
    PETREL_IP_SIGNAL_BURST: '100000',
    PETREL_TARGET_FETCHES_PER_MIN: '1000000',
    PETREL_TARGET_FETCH_BURST: '100000',
    PETREL_ONE_TIME_KEYS_PER_HOUR: '1000000',
    PETREL_ONE_TIME_KEY_BURST: '100000',
    ...env,
  };
}

/** Starts a relay in this process on a loopback ephemeral port, capturing its logs. */
export async function startTestRelay(
  env: Record<string, string> = {},
  dataDir = tempDataDir(),
  overrides: Partial<RelayConfig> = {},
  deps: RelayDependencies = {},
): Promise<TestRelay> {
  const config = { ...loadConfig(testEnv(dataDir, env)), ...overrides };
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const relay = await startRelay(config, createLogger(config.logLevel, sink), deps);
  const port = relay.port();
  return {
    relay,
    config,
    url: `ws://127.0.0.1:${port}/ws`,
    http: `http://127.0.0.1:${port}`,
    dataDir,
    logs: () => chunks.join(''),
    async stop(opts = {}) {
      await relay.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
