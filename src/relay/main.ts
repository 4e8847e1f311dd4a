import { ConfigError, loadConfig, type RelayConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startRelay, type Relay } from './server.ts';
import { RelayStartError } from './start-error.ts';

/** Extra time after the configured shutdown budget before the process exits regardless. */
const HARD_EXIT_GRACE_MS = 2000;

/** Process exit codes (docs/OPERATIONS.md). */
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_CONFIG = 2;
const EXIT_CANNOT_START = 3;

/** One human-readable line on stderr, for whoever started the process by hand. */
function tellOperator(line: string): void {
  process.stderr.write(`petrel relay: ${line}\n`);
}

function readConfig(): RelayConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      tellOperator(`invalid configuration: ${err.message}`);
      process.exit(EXIT_BAD_CONFIG);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.logLevel);
  let relay: Relay;
  try {
    relay = await startRelay(config, log);
  } catch (err) {
    const reason = err instanceof RelayStartError ? err.reason : 'unexpected';
    const message = err instanceof Error ? err.message : String(err);
    log.fatal({ reason, err: message }, 'relay failed to start');
    tellOperator(`cannot start: ${message}`);
    process.exit(EXIT_CANNOT_START);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(EXIT_FAILED);
    }, config.shutdownTimeoutMs + HARD_EXIT_GRACE_MS).unref();
    relay.close().then(
      () => process.exit(EXIT_OK),
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  tellOperator(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(EXIT_FAILED);
});
