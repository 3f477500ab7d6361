/** Test interceptor module: the production interceptor, reporting on the test's own task queue. */
import { workflowFailedInterceptors } from '../interceptors';

export const interceptors = workflowFailedInterceptors({ taskQueue: undefined });
