/** Why the relay could not start. */
export type StartFailure = 'address_in_use' | 'address_unavailable' | 'listen_denied' | 'data_dir' | 'database_schema' | 'database';

/** The relay could not start; `message` is one line an operator can act on. */
export class RelayStartError extends Error {
  override readonly name = 'RelayStartError';
  constructor(
    readonly reason: StartFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const errnoOf = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;

const detail = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Explains a failed `listen(port, host)`. */
export function listenFailure(err: unknown, port: number, host: string): RelayStartError {
  switch (errnoOf(err)) {
    case 'EADDRINUSE':
      return new RelayStartError('address_in_use', `port ${port} on ${host} is already in use (another relay running? set PORT)`, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RelayStartError('address_unavailable', `HOST ${host} is not an address of this machine (set HOST, e.g. 0.0.0.0)`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new RelayStartError('listen_denied', `not allowed to listen on port ${port} (ports below 1024 need privileges; set PORT)`, { cause: err });
    default:
      return new RelayStartError('address_unavailable', `cannot listen on ${host}:${port}: ${detail(err)}`, { cause: err });
  }
}

/** Explains a database that could not be opened in `dataDir`. */
export function databaseFailure(err: unknown, dataDir: string): RelayStartError {
  return new RelayStartError('data_dir', `cannot open the database in PETREL_DATA_DIR=${dataDir}: ${detail(err)} (is the directory writable by this user?)`, { cause: err });
}
