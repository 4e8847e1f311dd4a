import { readFileSync } from 'node:fs';

/**
 * The process's open-file limit (soft), or undefined where /proc is not available.
 * Node itself raises the soft RLIMIT_NOFILE to the hard limit when it starts (POSIX), so
 * this is already as high as the relay may go; only the operator can raise the hard limit
 * (systemd `LimitNOFILE=`, `ulimit -Hn`, container `--ulimit nofile=`).
 */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === undefined) return undefined;
    return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return undefined;
  }
}

/** Descriptors the configured caps may use: every WebSocket, every other HTTP connection, and headroom for the database and logs. */
export function descriptorsNeeded(maxConnections: number, maxHttpConnections: number): number {
  return maxConnections + maxHttpConnections + 64;
}
