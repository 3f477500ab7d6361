import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts', '**/*.test.tsx'],
    exclude: ['node_modules/**', '.data/**', 'dist/**'],
    // One real Temporal dev server for the whole run; tests get its address with inject('temporalAddress').
    globalSetup: ['./test/temporal-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
