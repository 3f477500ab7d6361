import { createDatabase, type DatabaseHandle } from '../db/client';

/** A fresh, migrated in-memory PGlite for one test file. */
export async function createTestDatabase(): Promise<DatabaseHandle> {
  const handle = await createDatabase();
  await handle.migrate();
  return handle;
}
