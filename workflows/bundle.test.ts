import { bundleWorkflowCode, type Logger } from '@temporalio/worker';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));
const interceptorsPath = fileURLToPath(new URL('./interceptors.ts', import.meta.url));
const projectData = fileURLToPath(new URL('../.data', import.meta.url));

// Inside the project (so the bundler resolves @temporalio/* like it does for real workflows), in the
// directory tsc and vitest ignore.
mkdirSync(projectData, { recursive: true });
const scratch = mkdtempSync(join(projectData, 'bundle-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function capturingLogger(errors: string[]): Logger {
  return { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (message) => errors.push(message) };
}

describe('workflow bundle', () => {
  test('the production workflows and interceptors bundle, without test-only workflows', async () => {
    const errors: string[] = [];
    const { code } = await bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: [interceptorsPath],
      logger: capturingLogger(errors),
    });
    expect(errors).toEqual([]);
    expect(code).toContain('webhookDeliveryWorkflow');
    expect(code).toContain('webhookEventWorkflow');
    expect(code).not.toContain('alwaysFailsWorkflow');
  });

  test('a workflow file beside it that imports only the workflow API bundles (control for the next test)', async () => {
    const path = join(scratch, 'allowed.ts');
    writeFileSync(
      path,
      "import { sleep } from '@temporalio/workflow';\nexport async function naps(): Promise<void> {\n  await sleep('1s');\n}\n",
    );
    const { code } = await bundleWorkflowCode({ workflowsPath: path, logger: capturingLogger([]) });
    expect(code).toContain('naps');
  });

  test('a workflow that imports a Node built-in fails to bundle, naming the module', async () => {
    const path = join(scratch, 'forbidden.ts');
    writeFileSync(
      path,
      "import { readFileSync } from 'node:fs';\nexport async function readsFiles(): Promise<string> {\n  return readFileSync('/etc/hostname', 'utf8');\n}\n",
    );
    const errors: string[] = [];
    await expect(bundleWorkflowCode({ workflowsPath: path, logger: capturingLogger(errors) })).rejects.toThrow(
      /Webpack finished with errors/,
    );
    expect(errors.join('\n')).toMatch(/ERROR in node:fs/);
  });
});
