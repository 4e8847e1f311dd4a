// Makes sure the PostgreSQL and Redis the relay's cluster tests use are running
// (tests/relay/helpers/services.ts). On a machine of this kind both run before the
// session; on a fresh one, where either is installed but stopped, this starts it with
// the commands documented for the machine and waits until it accepts connections.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';

const PG_URL = new URL(process.env.PETREL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const REDIS_URL = new URL(process.env.PETREL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

async function waitFor(name, host, port) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await reachable(host, port)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not come up on ${host}:${port}`);
}

function run(command) {
  process.stderr.write(`ensure-services: ${command}\n`);
  execSync(command, { stdio: 'inherit' });
}

const local = (url) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname);

async function ensurePostgres() {
  const host = PG_URL.hostname;
  const port = Number(PG_URL.port || 5432);
  if (await reachable(host, port)) return;
  if (!local(PG_URL) || !existsSync('/etc/postgresql')) throw new Error(`PostgreSQL is not reachable on ${host}:${port} (install it, or set PETREL_TEST_DATABASE_URL)`);
  const version = readdirSync('/etc/postgresql').sort().at(-1);
  run(`pg_ctlcluster --skip-systemctl-redirect ${version} main start`);
  await waitFor('PostgreSQL', host, port);
}

async function ensureRedis() {
  const host = REDIS_URL.hostname;
  const port = Number(REDIS_URL.port || 6379);
  if (await reachable(host, port)) return;
  if (!local(REDIS_URL)) throw new Error(`Redis is not reachable on ${host}:${port} (set PETREL_TEST_REDIS_URL)`);
  for (const dir of ['/var/lib/redis', '/var/log/redis']) mkdirSync(dir, { recursive: true });
  run(`redis-server --daemonize yes --bind 127.0.0.1 -::1 --port ${port} --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log`);
  await waitFor('Redis', host, port);
}

try {
  await ensurePostgres();
  await ensureRedis();
} catch (err) {
  process.stderr.write(`\nThe relay's cluster tests need PostgreSQL and Redis: ${err instanceof Error ? err.message : String(err)}\n\n`);
  process.exit(1);
}
