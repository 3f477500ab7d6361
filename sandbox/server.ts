/**
 * The emulator host: one Hono app with each emulated service under its own prefix (same paths and payloads
 * as the real service below it), so SDKs only need their base URL changed.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { createAdWorldControl, createAdWorldState } from './ad-world';
import { createBusinessProfileEmulator } from './business-profile';
import { createSlackEmulator } from './slack';
import { createGa4Emulator } from './ga4';
import { createGoogleAdsEmulator } from './google-ads';
import { createGoogleOAuthEmulator } from './google-oauth';
import { createMetaAdsEmulator } from './meta-ads';
import { createSendGridEmulator } from './sendgrid';
import { createTwilioEmulator } from './twilio';
import { createWebhookReceiver } from './webhook-receiver';

export function createSandboxApp() {
  // The ad platforms' synthetic world: clock, revisions and pending errors belong to this app instance only.
  const adWorld = createAdWorldState();
  return new Hono()
    .get('/', (c) =>
      c.json({
        sandbox: 'p11-console',
        services: ['/sendgrid', '/twilio', '/business-profile', '/slack', '/receivers'],
        adPlatforms: ['/meta', '/google-ads', '/google-oauth', '/ga4', '/_world'],
      }),
    )
    .route('/sendgrid', createSendGridEmulator())
    .route('/twilio', createTwilioEmulator())
    .route('/business-profile', createBusinessProfileEmulator())
    .route('/slack', createSlackEmulator())
    .route('/receivers', createWebhookReceiver())
    .route('/meta', createMetaAdsEmulator(adWorld))
    .route('/google-oauth', createGoogleOAuthEmulator(adWorld))
    .route('/google-ads', createGoogleAdsEmulator(adWorld))
    .route('/ga4', createGa4Emulator(adWorld))
    .route('/_world', createAdWorldControl(adWorld));
}

export interface SandboxOptions {
  /** 0 picks a free port. */
  port: number;
  hostname?: string;
}

export interface RunningSandbox {
  url: string;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const app = createSandboxApp();
  const hostname = options.hostname ?? '127.0.0.1';
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${hostname}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets from fetch would otherwise hold close() open.
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
