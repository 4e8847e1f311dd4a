/**
 * The real relay (`node dist/server/relay/main.js`) as a child process the chaos specs
 * own: its own loopback port and temp data dir, stopped with SIGTERM or SIGKILL and
 * started again on the same port and data dir (what a crash and a supervisor restart do).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const RELAY_MAIN = join(ROOT, 'dist', 'server', 'relay', 'main.js');
/** How long a start may take before the harness gives up (loaded 2-core box). */
const START_TIMEOUT_MS = 20_000;
const HEALTH_POLL_MS = 50;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class ChaosRelay {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private out = '';
  /** Times the process was started (1 after `start`, 2 after one restart, ...). */
  starts = 0;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  /** Starts a relay on a fresh port and a fresh temp data dir, with `env` added on every start; resolves when /health answers. */
  static async start(env: Readonly<Record<string, string>> = {}): Promise<ChaosRelay> {
    const relay = new ChaosRelay(await freePort(), mkdtempSync(join(tmpdir(), 'petrel-chaos-')), env);
    await relay.restart();
    return relay;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Everything the relay processes wrote (warn and above), for failure messages. */
  output(): string {
    return this.out;
  }

  /** (Re)starts the process on the same port and data dir. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('relay already running');
    const child = spawn(process.execPath, [RELAY_MAIN], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1', PETREL_DATA_DIR: this.dataDir, PETREL_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    child.stdout!.on('data', (d: Buffer) => (this.out += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (this.out += d.toString('utf8')));
    let gone = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        gone = true;
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (gone) throw new Error(`relay exited during start:\n${this.out}`);
      try {
        const res = await fetch(`${this.origin}/health`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`relay did not answer /health within ${START_TIMEOUT_MS} ms:\n${this.out}`);
      await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
    }
  }

  /** Sends `signal` and waits for the process to be gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await this.exited;
  }

  /** One Prometheus sample from /metrics (0 when absent). */
  async metric(pattern: RegExp): Promise<number> {
    const m = (await (await fetch(`${this.origin}/metrics`)).text()).match(pattern);
    return m ? Number(m[1]) : 0;
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
