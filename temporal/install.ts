/** `npm run temporal:install`: resolves (building if needed) the Temporal CLI and prints where it is. */
import { resolveTemporalCli } from './cli';

const cli = await resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI || undefined });
if (!cli) {
  console.error('No Temporal CLI: none on PATH, none cached, and Go is not installed to build one.');
  process.exit(1);
}
console.log(`Temporal CLI (${cli.source}): ${cli.path}`);
