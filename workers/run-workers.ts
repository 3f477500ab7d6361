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
 * One Worker per task queue. Today the platform queue carries every workflow; products with heavy or
 * bursty work (backfills, scrapes) get their own queue and Worker here so they cannot starve the others.
 */
export async function startWorkers(options: {
  connection: NativeConnection;
  namespace: string;
  activities: object;
}): Promise<RunningWorkers> {
  const queues = [TASK_QUEUES.platform];
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
