// `npm start`: build the app and relay when the sources are newer than the build, then
// run the relay, which also serves the PWA, on one port (PORT, default 8787).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync, spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const outputs = ['dist/app/index.html', 'dist/server/relay/main.js'].map((p) => join(root, p));
const inputs = ['src', 'index.html', 'public', 'vite.config.ts', 'package-lock.json', 'tsconfig.relay.json'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), st.mtimeMs);
}

const built = outputs.every(existsSync) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
const sources = Math.max(...inputs.map((p) => newest(join(root, p))));
if (built < sources) {
  process.stderr.write('petrel: building app and relay...\n');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const child = spawn(process.execPath, [join(root, 'dist/server/relay/main.js')], { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
