/** Test workflowsPath: everything shipped plus test-only workflows. */
export * from '../index';
export { alwaysFailsWorkflow } from './always-fails';
