import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Picks a free loopback port synchronously. Playwright evaluates its config in the
 * runner and again in every worker, so the choice is made once and passed on through
 * the environment (workers inherit it).
 */
export function freePortSync(): number {
  const out = execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})",
  ]);
  return Number(out.toString());
}

export function e2eServer(): { port: number; dataDir: string; baseURL: string } {
  if (!process.env.PETREL_E2E_PORT) {
    process.env.PETREL_E2E_PORT = String(freePortSync());
    process.env.PETREL_E2E_DATA = mkdtempSync(join(tmpdir(), 'petrel-e2e-'));
  }
  const port = Number(process.env.PETREL_E2E_PORT);
  return { port, dataDir: process.env.PETREL_E2E_DATA!, baseURL: `http://localhost:${port}` };
}
