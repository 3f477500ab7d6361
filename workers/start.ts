/**
 * `npm start`: the whole platform on its embedded default, in one process plus the Temporal dev server:
 * Temporal (gRPC + Web UI, persisted under .data/temporal), PGlite (.data/pglite), the sandbox emulators,
 * the workers and the API with its admin UI. PGlite is a single session, so API and workers share it here.
 * Ctrl-C shuts everything down in reverse order.
 */
import { join } from 'node:path';
import { loadConfig } from '../config';
import { createPlatformActivities } from '../activities';
import { createApp } from '../api/app';
import { listen, type RunningServer } from '../api/server';
import { DEMO_ORG, seedDemo } from '../db/seed';
import { startSandbox } from '../sandbox/server';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import { buildActivityDependencies, buildApiDependencies, buildShared, connectWorkerConnection } from './dependencies';
import { installWorkerRuntime, startWorkers } from './run-workers';
import { seedDemoDataLake, seedDemoWebhookEndpoint } from './demo';
import { seedDemoLumaLeasing } from './demo-lumaleasing';
import { pointSandboxWebhooksAt, seedDemoTourSpark } from './demo-tourspark';
import { seedDemoLeadPulse } from './demo-leadpulse';
import { pointBusinessProfileNotificationsAt, seedDemoReviewFlow } from './demo-reviewflow';
import type { LeadPulseTrainingResult } from '../workflows/leadpulse';

const started = Date.now();
const config = loadConfig();
installWorkerRuntime(config.temporal.sdkLogLevel);
const log = (line: string) => console.log(`[p11] ${line}`);
const cleanups: (() => Promise<unknown>)[] = [];

async function main() {
  log(`Starting P11 Console (${config.mode} mode, data in ${config.dataDir})`);

  let temporalAddress = config.temporal.address;
  let devServer: DevServer | undefined;
  if (!temporalAddress) {
    log('Starting the Temporal dev server…');
    devServer = await startDevServer({
      namespace: config.temporal.namespace,
      port: config.temporal.devServerPort,
      uiPort: config.temporal.devServerUiPort,
      dbFilename: join(config.dataDir, 'temporal', 'dev-server.db'),
      cliPath: config.temporal.cliPath,
      log,
    });
    cleanups.push(() => devServer!.stop());
    temporalAddress = devServer.address;
    log(`Temporal dev server ready (${devServer.cli.source} CLI: ${devServer.cli.path})`);
  }

  const shared = await buildShared(config);
  cleanups.push(() => shared.database.close());
  log(
    `Database ready (${shared.database.kind}${shared.database.kind === 'pglite' ? `, ${config.dataDir}/pglite` : ''})`,
  );

  let sandboxUrl: string | undefined;
  if (config.mode === 'sandbox') {
    const sandbox = await startSandbox({ port: config.sandbox.port });
    cleanups.push(() => sandbox.close());
    sandboxUrl = sandbox.url;
    await pointSandboxWebhooksAt(sandbox.url, config);
    await pointBusinessProfileNotificationsAt(sandbox.url, config);
  }

  const connection = await connectWorkerConnection(config, temporalAddress);
  cleanups.push(() => connection.close());
  const workers = await startWorkers({
    connection,
    namespace: config.temporal.namespace,
    activities: createPlatformActivities(buildActivityDependencies(shared)),
  });
  cleanups.push(() => workers.shutdown());

  const deps = await buildApiDependencies(shared, temporalAddress);
  cleanups.push(() => deps.temporal.connection.close());
  const app = createApp(deps);
  const server: RunningServer = await listen(app, config.port);
  cleanups.push(() => server.close());

  const demo = config.mode === 'sandbox' ? await seedDemo(shared.database.db, config.dataDir) : null;
  if (demo) {
    await seedDemoWebhookEndpoint(app, demo.apiKey, `${config.sandbox.url}/receivers/demo`);
    // Sandbox ad accounts with schedules, and a 90-day backfill so the dashboard has data on first open.
    await seedDemoDataLake(app, demo.apiKey, { reserveId: demo.propertyIds[0]!, harborId: demo.propertyIds[1]! });
    // The two communities' leasing documents (ingested in the background) and their chat personas.
    await seedDemoLumaLeasing(app, demo.apiKey, { reserveId: demo.propertyIds[0]!, harborId: demo.propertyIds[1]! });
    // LeadPulse: 12 months of synthetic lead history, the monthly training schedule and a first model (seconds),
    // awaited so the demo leads below are scored by it.
    const leadpulse = await seedDemoLeadPulse({
      db: shared.database.db,
      encryptor: shared.encryptor,
      temporal: deps.temporal,
      orgId: demo.orgId,
      cron: config.leadpulse.trainingCron,
    });
    const trained: LeadPulseTrainingResult = await deps.temporal.workflow.getHandle(leadpulse.training.workflowId).result();
    log(
      `LeadPulse: ${leadpulse.history.inserted} history leads added; model v${trained.version} ` +
        `${trained.promoted ? 'promoted' : 'not promoted'} (holdout AUC ${trained.auc.toFixed(3)}, baseline ${trained.baselineAuc.toFixed(3)})`,
    );
    // TourSpark: a fast demo sequence on The Reserve and three leads through POST /v1/leads.
    await seedDemoTourSpark(app, demo.apiKey, { reserveId: demo.propertyIds[0]! });
    // ReviewFlow: auto-reply settings, a persona, a Business Profile connection polled at once, and a review
    // from another site. A demo whose API key predates ReviewFlow's scopes is skipped, not fatal.
    try {
      const reviewflow = await seedDemoReviewFlow(app, demo.apiKey, {
        reserveId: demo.propertyIds[0]!,
        harborId: demo.propertyIds[1]!,
      });
      log(`ReviewFlow: Business Profile connection polled (${reviewflow.pollWorkflowId})`);
    } catch (err) {
      log(`ReviewFlow demo not seeded: ${(err as Error).message}`);
    }
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`
  P11 Console is up (${seconds} s)

  API            ${config.publicUrl}            (GET /health)
  Admin UI       ${config.publicUrl}/admin
  Temporal UI    ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows
  Temporal gRPC  ${temporalAddress}   namespace ${config.temporal.namespace}
  Workers        ${workers.taskQueues.join(', ')}${sandboxUrl ? `\n  Sandbox        ${sandboxUrl}   (Twilio, SendGrid, Business Profile and Slack emulators, webhook receivers)` : ''}${
    demo
      ? `
  Demo org       ${join(config.dataDir, 'demo.json')}
                 admin ${demo.adminEmail} / ${demo.adminPassword}
                 viewer ${demo.viewerEmail} / ${demo.viewerPassword}
                 API key ${demo.apiKey.slice(0, 12)}… (full key in demo.json)
  Leasing chat   ${config.publicUrl}/chat/${DEMO_ORG.slug}/the-reserve-at-sandpoint
                 ${config.publicUrl}/chat/${DEMO_ORG.slug}/harbor-view-lofts`
      : ''
  }

  Ctrl-C to stop.
`);
  workers.done.then(() => void shutdown('a worker stopped'));
}

let stopping = false;
async function shutdown(reason: string) {
  if (stopping) return;
  stopping = true;
  log(`${reason}: shutting down…`);
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      console.error('[p11] during shutdown:', (err as Error).message);
    }
  }
  log('Stopped.');
  process.exit(0);
}

process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
main().catch(async (err) => {
  console.error(`[p11] failed to start: ${(err as Error).message}`);
  await shutdown('start-up failed');
  process.exitCode = 1;
});
