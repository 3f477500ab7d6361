import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../temporal/dev-server';

export const TEST_NAMESPACE = 'p11-test';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalUiUrl: string;
  }
}

let server: DevServer | undefined;

/** Starts the real Temporal dev server (with its Web UI, for the browser test) once per test run. */
export async function setup(project: TestProject) {
  server = await startDevServer({
    namespace: TEST_NAMESPACE,
    port: 0,
    uiPort: 0,
    log: (l) => console.log(`[temporal] ${l}`),
  });
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', TEST_NAMESPACE);
  project.provide('temporalUiUrl', server.uiUrl ?? '');
}

export async function teardown() {
  await server?.stop();
}
