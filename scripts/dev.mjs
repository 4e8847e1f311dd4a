// `npm run dev`: the relay (rebuilt from source) on PORT and Vite's dev server with
// hot reload on 5173, which proxies /ws to the relay.
import { spawn, spawnSync } from 'node:child_process';

const r = spawnSync('npm', ['run', 'build:relay'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
const relay = spawn(process.execPath, ['dist/server/relay/main.js'], { stdio: 'inherit' });
const vite = spawn('npx', ['vite'], { stdio: 'inherit' });
const stop = () => { relay.kill('SIGTERM'); vite.kill('SIGTERM'); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
relay.on('exit', stop);
vite.on('exit', stop);
