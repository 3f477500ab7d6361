import { DefaultLogger, Runtime, Worker, type NativeConnection } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { TASK_QUEUES } from '../temporal/task-queues';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
export const WORKFLOW_INTERCEPTORS_PATH = fileURLToPath(new URL('../workflows/interceptors.ts', import.meta.url));

/**
 * Process-wide SDK logging at WARN: at INFO the SDK prints webpack's bundle report on every start. Call once,
 * before the first connection (the Runtime can be installed only once per process).
 */
export function installWorkerRuntime(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'WARN') {
  Runtime.install({ logger: new DefaultLogger(level) });
}

export interface RunningWorkers {
  taskQueues: string[];
  /** Stops polling, lets in-flight activities finish, resolves when every worker has stopped. */
  shutdown(): Promise<void>;
  /** Settles when any worker stops on its own (e.g. a fatal error). */
  done: Promise<void>;
}

/**
 * Per-queue Worker options. Every Worker registers every workflow and activity (one bundle); what differs
 * is the queue it polls and its slots, so a bursty queue cannot take the slots of the others.
 */
const WORKER_SLOTS: Record<string, { maxConcurrentActivityTaskExecutions?: number }> = {
  [TASK_QUEUES.platform]: {},
  [TASK_QUEUES.etl]: { maxConcurrentActivityTaskExecutions: 20 },
  // Backfill pages are large upserts: a few at a time keeps the database responsive for everyone else.
  [TASK_QUEUES.etlBackfill]: { maxConcurrentActivityTaskExecutions: 4 },
  // Visitors wait on these answers: plenty of slots, and nothing else shares the queue.
  [TASK_QUEUES.lumaleasingChat]: { maxConcurrentActivityTaskExecutions: 50 },
  // Extraction and embedding are CPU- and API-heavy: a few at a time.
  [TASK_QUEUES.lumaleasingIngest]: { maxConcurrentActivityTaskExecutions: 4 },
  // Sends are short HTTP calls; many sequences start at once when leads arrive in bulk.
  [TASK_QUEUES.tourspark]: { maxConcurrentActivityTaskExecutions: 50 },
  // Analyses, drafts and posts are short API and LLM calls; a poll can hand many reviews to triage at once.
  [TASK_QUEUES.reviewflow]: { maxConcurrentActivityTaskExecutions: 20 },
  // Training holds a core for minutes: one at a time per worker.
  [TASK_QUEUES.leadpulse]: { maxConcurrentActivityTaskExecutions: 1 },
};

/**
 * One Worker per task queue: platform work, ETL syncs, backfills (their own queue so one client's three-year
 * backfill never starves the others' daily syncs), LumaLeasing chat and LumaLeasing document ingestion.
 */
export async function startWorkers(options: {
  connection: NativeConnection;
  namespace: string;
  activities: object;
}): Promise<RunningWorkers> {
  const queues = Object.keys(WORKER_SLOTS);
  const workers = await Promise.all(
    queues.map((taskQueue) =>
      Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue,
        workflowsPath: WORKFLOWS_PATH,
        activities: options.activities,
        interceptors: { workflowModules: [WORKFLOW_INTERCEPTORS_PATH] },
        // Graceful shutdown: activities get this long to finish before they are cancelled.
        shutdownGraceTime: '10s',
        ...WORKER_SLOTS[taskQueue],
      }),
    ),
  );
  const runs = workers.map((w) => w.run());
  return {
    taskQueues: queues,
    done: Promise.race(runs),
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(runs);
    },
  };
}
