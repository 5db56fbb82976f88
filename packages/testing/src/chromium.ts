// How the tests start Debian's Chromium (playwright-core cannot download a browser here): the
// binary and the flags that keep it off a closed network, for every package's browser tests.
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
