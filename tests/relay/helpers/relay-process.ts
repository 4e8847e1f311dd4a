import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { testEnv } from './relay-harness.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** A relay running as a child process (`node --import tsx src/relay/main.ts`), so it can be SIGKILLed. */
export interface RelayProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything written to stdout/stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnRelay(dataDir: string, env: Record<string, string> = {}): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/relay/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...testEnv(dataDir, env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${out}`)), 20_000);
    const check = () => {
      const m = out.match(/"port":(\d+)[^\n]*"msg":"relay listening"/);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`relay exited during start:\n${out}`)));
  });
  return { child, port, url: `ws://127.0.0.1:${port}/ws`, output: () => out, exited };
}

/** What a relay process that was expected to stop by itself printed, and how it ended. */
export interface RelayExit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `src/relay/main.ts` and waits for it to exit (start-up failures); killed after `timeoutMs`. */
export function runRelayToExit(dataDir: string, env: Record<string, string> = {}, timeoutMs = 20_000): Promise<RelayExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/relay/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...testEnv(dataDir, env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
