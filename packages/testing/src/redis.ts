// The machine's Redis for tests (127.0.0.1:6379 here and in CI): whether it answers, so that a
// suite can skip its Redis cases with a loud message instead of failing where there is none.
import { createConnection } from 'node:net';

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** True when a Redis at `url` answers PING within a second. */
export async function redisAnswers(url: string = TEST_REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), 1000);
    let reply = '';
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** Prints why a suite's Redis cases are skipped, where a reader of the test output sees it. */
export function warnRedisMissing(suite: string, url: string = TEST_REDIS_URL): void {
  process.stderr.write(
    `\n${'!'.repeat(78)}\n!! ${suite}: no Redis answers at ${url}; its Redis tests are SKIPPED.\n` +
      `!! Start one (redis-server --port 6379) to run them; CI has one.\n${'!'.repeat(78)}\n\n`,
  );
}
