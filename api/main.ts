/**
 * `npm run api`: the API as its own process (production). Needs DATABASE_URL and TEMPORAL_ADDRESS; scales
 * out behind a load balancer (rate limits are shared when REDIS_URL is set).
 */
import { loadConfig } from '../config';
import { buildApiDependencies, buildShared } from '../workers/dependencies';
import { createApp } from './app';
import { listen } from './server';

const config = loadConfig();
if (!config.databaseUrl) throw new Error('npm run api needs DATABASE_URL (use npm start for the embedded platform)');
if (!config.temporal.address) throw new Error('npm run api needs TEMPORAL_ADDRESS');

const shared = await buildShared(config);
const deps = await buildApiDependencies(shared, config.temporal.address);
const server = await listen(createApp(deps), config.port);
console.log(`P11 Console API listening on ${server.url} (admin UI at ${config.publicUrl}/admin)`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down the API…`);
  await server.close();
  await deps.temporal.connection.close();
  await shared.database.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
