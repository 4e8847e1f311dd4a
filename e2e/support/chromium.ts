/**
 * How Chromium is launched on this kind of machine: Debian's build (Playwright cannot
 * download its own here) with the flags that keep it off the closed network.
 */
export const CHROMIUM_PATH = process.env.PETREL_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
