/**
 * For tests of the emulators' outbound webhooks: a tiny standalone HTTP server (its own port, like the
 * platform's API would be) that records every request exactly as received and answers with a chosen status.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  /** The full URL as the sender addressed it (what Twilio signs). */
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  contentType: string;
}

export interface CaptureServer {
  url: string;
  requests: CapturedRequest[];
  /** Requests to one path, in arrival order. */
  to(path: string): CapturedRequest[];
  /** Resolves once `count` requests reached `path` (rejects after timeoutMs). */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<CapturedRequest[]>;
  /** Resolves once `count` requests to `path` satisfy `match`; returns those. */
  waitForMatching(
    path: string,
    match: (r: CapturedRequest) => boolean,
    count: number,
    timeoutMs?: number,
  ): Promise<CapturedRequest[]>;
  /** What to answer (default 200 with an empty TwiML-free body). */
  respond(status: number, body?: string, contentType?: string): void;
  close(): Promise<void>;
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  let answer = { status: 200, body: '', contentType: 'text/plain' };
  const waiters: (() => void)[] = [];
  let base = '';
  const app = new Hono().all('*', async (c) => {
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => (headers[key] = value));
    const path = new URL(c.req.url).pathname;
    const search = new URL(c.req.url).search;
    requests.push({
      url: `${base}${path}${search}`,
      path,
      headers,
      body: await c.req.text(),
      contentType: headers['content-type'] ?? '',
    });
    for (const wake of waiters.splice(0)) wake();
    return c.body(answer.body, answer.status as 200, { 'content-type': answer.contentType });
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const to = (path: string) => requests.filter((r) => r.path === path);
  const waitForMatching = async (
    path: string,
    match: (r: CapturedRequest) => boolean,
    count: number,
    timeoutMs = 10_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    const matching = () => to(path).filter(match);
    while (matching().length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} requests to ${path}; got ${matching().length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return matching().slice(0, count);
  };
  return {
    url: base,
    requests,
    to,
    waitFor: (path, count, timeoutMs) => waitForMatching(path, () => true, count, timeoutMs),
    waitForMatching,
    respond(status, body = '', contentType = 'text/plain') {
      answer = { status, body, contentType };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
