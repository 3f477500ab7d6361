import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './context';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Serves a Hono app over node:http; resolves once it is listening. */
export function listen(app: Hono<AppEnv>, port: number, hostname = '0.0.0.0'): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    try {
      server = serve({ fetch: app.fetch, port, hostname }, (info) => {
        resolve({
          url: `http://localhost:${info.port}`,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      });
      server.once('error', reject);
    } catch (err) {
      reject(err);
    }
  });
}
