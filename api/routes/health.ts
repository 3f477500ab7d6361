import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../context';

const CHECK_TIMEOUT_MS = 2_000;

async function check(work: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Public readiness probe, mounted at /health: 503 unless both the database and Temporal answer. */
export function createHealthRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get('/', async (c) => {
    const [database, temporal] = await Promise.all([
      check(() => deps.db.execute(sql`select 1`)),
      // The gRPC deadline also cancels the call, so a hung frontend does not pile up requests behind the timer.
      check(() =>
        deps.temporal.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          deps.temporal.workflowService.getSystemInfo({}),
        ),
      ),
    ]);
    const healthy = database === 'ok' && temporal === 'ok';
    return c.json({ status: healthy ? 'ok' : 'unavailable', database, temporal }, healthy ? 200 : 503);
  });
}
