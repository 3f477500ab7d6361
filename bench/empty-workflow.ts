/** The benchmark's baseline: a workflow that does nothing, so its cost is Temporal's and the worker's alone. */
export async function emptyWorkflow(): Promise<void> {}
