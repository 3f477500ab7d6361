/** Test-only: a product workflow that fails, to exercise the workflow.failed interceptor. Not in the production bundle. */
import { ApplicationFailure } from '@temporalio/workflow';

export async function alwaysFailsWorkflow(reason: string): Promise<never> {
  throw ApplicationFailure.nonRetryable(reason, 'TestFailure');
}
