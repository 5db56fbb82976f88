// A real keruta-api in this process, on 127.0.0.1 and a free port, with SQLite in a temp dir.
import { join } from 'node:path';
import { pino } from 'pino';
import { createServer, defineConfig, type KerutaServer, type ServerConfig } from 'keruta-api';
import { makeTempDir, type TempDir } from './temp-dir.js';

export interface TestServer extends AsyncDisposable {
  readonly server: KerutaServer;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly baseUrl: string;
  /** http://127.0.0.1:PORT/api/v1 */
  readonly apiUrl: string;
  /** ws://127.0.0.1:PORT/ws/tasks */
  readonly wsUrl: string;
  readonly dataDir: string;
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** Settings over the defaults; host, port and databaseUrl default to 127.0.0.1, 0 and a temp SQLite file. */
  config?: Partial<ServerConfig>;
  /** Keep the data here instead of a temp dir that is removed on close. */
  dataDir?: string;
}

export async function startServer(options: StartServerOptions = {}): Promise<TestServer> {
  let temp: TempDir | undefined;
  const dataDir = options.dataDir ?? (temp = await makeTempDir('keruta-server-')).path;
  const config = defineConfig({
    port: 0,
    databaseUrl: `sqlite:${join(dataDir, 'keruta.db')}`,
    ...options.config,
  });
  const server = await createServer(config, { logger: pino({ level: process.env.KERUTA_TEST_LOG ?? 'silent' }) });
  const baseUrl = await server.listen();
  const port = Number(new URL(baseUrl).port);
  const close = async () => {
    await server.close();
    await temp?.remove();
  };
  return {
    server,
    port,
    baseUrl,
    apiUrl: `${baseUrl}/api/v1`,
    wsUrl: `ws://127.0.0.1:${port}/ws/tasks`,
    dataDir,
    close,
    [Symbol.asyncDispose]: close,
  };
}
