/**
 * Runs `temporal server start-dev` (gRPC frontend + Web UI, SQLite persistence) for `npm start` and the
 * test suite, with the project's namespace and search attributes registered.
 */
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';
import { resolveTemporalCli, type ResolvedCli } from './cli';

export interface DevServerOptions {
  namespace: string;
  /** gRPC port; 0 picks a free one. */
  port: number;
  /** Web UI port; 0 picks a free one; null runs headless. */
  uiPort: number | null;
  /** SQLite file for persistence; undefined keeps everything in memory. */
  dbFilename?: string;
  cliPath?: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  cli: ResolvedCli | { path: 'sdk-download'; source: 'download' };
  stop(): Promise<void>;
}

/** `OrgId=Keyword` flags for every search attribute workflows set. */
export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTE_KEYS.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const log = options.log ?? ((line) => console.log(line));
  const port = options.port || (await freePort());
  const uiPort = options.uiPort === null ? null : options.uiPort || (await freePort());
  const cli = await resolveTemporalCli({ explicitPath: options.cliPath, log });
  if (!cli) return startWithSdkDownload({ ...options, port, uiPort }, log);

  if (options.dbFilename) mkdirSync(dirname(options.dbFilename), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    options.namespace,
    '--log-level',
    'error',
    ...searchAttributeFlags(),
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort), '--ui-ip', '127.0.0.1']),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
  ];
  const child = spawn(cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(address, options.namespace, child, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address,
    uiUrl: uiPort === null ? null : `http://localhost:${uiPort}`,
    cli,
    stop: () => stopChild(child),
  };
}

/** Polls the frontend until the namespace answers (the dev server creates it, then the search attributes). */
async function waitUntilServing(address: string, namespace: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + 60_000;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`Temporal dev server exited with code ${exited}:\n${output()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal dev server did not become ready at ${address}: ${String(lastError)}\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Last resort where the internet is reachable: the SDK downloads a CLI and runs the same dev server. */
async function startWithSdkDownload(
  options: DevServerOptions & { port: number; uiPort: number | null },
  log: (line: string) => void,
): Promise<DevServer> {
  log('No Temporal CLI found and Go is not available: asking the Temporal SDK to download one…');
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download' },
        namespace: options.namespace,
        ip: '127.0.0.1',
        port: options.port,
        ui: options.uiPort !== null,
        uiPort: options.uiPort ?? undefined,
        dbFilename: options.dbFilename,
        searchAttributes: [...SEARCH_ATTRIBUTE_KEYS],
      },
    });
  } catch (err) {
    throw new Error(
      'Could not get a Temporal server. Tried: $TEMPORAL_CLI, `temporal` on PATH, the cached build, building with Go ' +
        `(go not found), and the SDK download (${(err as Error).message}). Install Go 1.22+ or the Temporal CLI, ` +
        'or set TEMPORAL_CLI=/path/to/temporal, or point TEMPORAL_ADDRESS at a running server.',
    );
  }
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort === null ? null : `http://localhost:${options.uiPort}`,
    cli: { path: 'sdk-download', source: 'download' },
    stop: () => env.teardown(),
  };
}
