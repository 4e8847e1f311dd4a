// Makes sure the browser the e2e suite drives is present. Playwright cannot download
// its own build on this kind of machine, so Petrel uses Debian's Chromium.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const path = process.env.PETREL_CHROMIUM ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && existsSync('/usr/bin/apt-get')) {
  process.stderr.write(`Chromium not found at ${path}; installing Debian's chromium with apt-get...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execSync('apt-get update -qq', { stdio: 'inherit', env });
  execSync('apt-get install -y -qq chromium', { stdio: 'inherit', env });
  if (existsSync(path)) process.exit(0);
}
process.stderr.write(
  `\nThe end-to-end tests need Chromium at ${path}.\n` +
    `Install it (Debian/Ubuntu: sudo apt-get install chromium) or point PETREL_CHROMIUM at a Chromium binary.\n\n`,
);
process.exit(1);
