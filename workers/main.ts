/**
 * `npm run worker`: Temporal workers as their own process (production). Needs DATABASE_URL and
 * TEMPORAL_ADDRESS; run as many replicas as the load needs.
 */
import { loadConfig } from '../config';
import { createPlatformActivities } from '../activities';
import { buildActivityDependencies, buildShared, connectWorkerConnection } from './dependencies';
import { installWorkerRuntime, startWorkers } from './run-workers';

const config = loadConfig();
installWorkerRuntime(config.temporal.sdkLogLevel);
if (!config.databaseUrl) throw new Error('npm run worker needs DATABASE_URL (use npm start for the embedded platform)');
if (!config.temporal.address) throw new Error('npm run worker needs TEMPORAL_ADDRESS');

const shared = await buildShared(config);
const connection = await connectWorkerConnection(config, config.temporal.address);
const workers = await startWorkers({
  connection,
  namespace: config.temporal.namespace,
  activities: createPlatformActivities(buildActivityDependencies(shared)),
});
console.log(`P11 Console worker polling ${workers.taskQueues.join(', ')} in namespace ${config.temporal.namespace}`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: draining workers…`);
  await workers.shutdown();
  await connection.close();
  await shared.database.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
workers.done.then(() => void stop('worker stopped'));
