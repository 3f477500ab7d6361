import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema/index.ts',
  out: './db/migrations',
  // Roles are declared `.existing()` and created by the custom migration; policies are generated.
  entities: { roles: true },
});
