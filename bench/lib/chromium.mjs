// Debian's Chromium for the page benchmarks, driven by playwright-core with a fresh profile.
// `unlimitedFrames` turns off vsync and the frame-rate cap, so that the time between animation
// frames is the time a frame takes to make, not the display's 16.7 ms.
import { mkdtemp, rm } from 'node:fs/promises';
/* global requestAnimationFrame -- used in code that runs in the page */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium({ unlimitedFrames = false, viewport = { width: 1280, height: 800 } } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'keruta-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: unlimitedFrames ? [...ARGS, '--disable-gpu-vsync', '--disable-frame-rate-limit'] : ARGS,
    viewport,
    colorScheme: 'dark',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    /** JS heap in use after a full garbage collection, in bytes. */
    async heapUsed(target = page) {
      const cdp = await context.newCDPSession(target);
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      await cdp.detach();
      return usedSize;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Starts recording the time between animation frames in the page; `stop()` returns them in ms. */
export async function recordFrames(page) {
  await page.evaluate(() => {
    const state = { times: [], stop: false };
    globalThis.__kerutaBenchFrames = state;
    let last;
    const loop = (t) => {
      if (last !== undefined) state.times.push(t - last);
      last = t;
      if (!state.stop) requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  return {
    stop: () =>
      page.evaluate(() => {
        const state = globalThis.__kerutaBenchFrames;
        state.stop = true;
        return state.times;
      }),
  };
}
