/**
 * A LeadPulse worker on the test run's real Temporal dev server: one Worker on a queue unique to the test file,
 * with the real LeadPulse activities over the given database and a scorer that re-reads the registry on every
 * call (refreshMs 0), so promotions show at once. `wrap` lets a test interpose on activities (e.g. fail an
 * attempt after the real work, to see what a retry does).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import {
  createLeadPulseActivities,
  type LeadPulseActivities,
  type LeadPulseActivityDeps,
} from '../activities/leadpulse';
import { createLeadScorer, type LeadScorer } from '../activities/leadpulse-scorer';
import type { DatabaseHandle } from '../db/client';
import { WORKFLOWS_PATH } from './etl-worker';

export interface LeadPulseWorkerOptions {
  /** A name unique to the test file; the queue is derived from it. */
  name: string;
  database: DatabaseHandle;
  leadScorer?: LeadScorer;
  /** Overrides of the activity dependencies (labelMaturity, now, minTrainingRows, ...). */
  deps?: Partial<Omit<LeadPulseActivityDeps, 'db' | 'leadScorer'>>;
  wrap?: (activities: LeadPulseActivities) => LeadPulseActivities;
}

export interface LeadPulseWorker {
  taskQueue: string;
  leadScorer: LeadScorer;
  close(): Promise<void>;
}

export async function startLeadPulseWorker(options: LeadPulseWorkerOptions): Promise<LeadPulseWorker> {
  try {
    // Warnings and errors only (the SDK prints its bundle report and every state change at INFO). The runtime
    // can be installed once per process, before its first connection: a file that already did keeps its own.
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed.
  }
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = `leadpulse-test-${options.name}-${process.pid}-${Date.now().toString(36)}`;
  const leadScorer = options.leadScorer ?? createLeadScorer({ db: options.database.db, refreshMs: 0 });
  const real = createLeadPulseActivities({ db: options.database.db, leadScorer, ...options.deps });
  const activities = options.wrap ? options.wrap(real) : real;
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
    shutdownGraceTime: '1s',
  });
  const run = worker.run();
  return {
    taskQueue,
    leadScorer,
    async close() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.allSettled([run]);
      await connection.close();
      if (!options.leadScorer) await leadScorer.close();
    },
  };
}
