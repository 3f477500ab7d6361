/**
 * Finds a Temporal CLI (which contains the dev server and its Web UI), in this order:
 * $TEMPORAL_CLI, `temporal` on PATH, our cached build, a fresh `go install` into that cache.
 * Returns null when none works; the caller may then fall back to the SDK's own download.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** v1.5.1 is the newest tag whose go.mod has no `replace` directive, so `go install` can build it. */
export const TEMPORAL_CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

export interface ResolvedCli {
  path: string;
  source: 'env' | 'path' | 'cache' | 'built';
}

export function cliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.P11_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'p11-console');
  return join(base, `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

function findGo(env: NodeJS.ProcessEnv): string | null {
  return findOnPath('go', env) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
}

/** Builds the CLI with `go install`, streaming progress: the first build downloads modules and takes minutes. */
export async function buildCliWithGo(goPath: string, targetDir: string, log: (line: string) => void): Promise<string> {
  mkdirSync(targetDir, { recursive: true });
  log(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${targetDir} (first time only; takes a few minutes)…`,
  );
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(goPath, ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: targetDir, GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let downloads = 0;
    const ticker = setInterval(
      () => log(`  …still building (${Math.round((Date.now() - started) / 1000)} s, ${downloads} modules fetched)`),
      15_000,
    );
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.startsWith('go: downloading')) downloads++;
        else if (line.trim()) log(`  go: ${line.trim()}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(ticker);
      code === 0 ? resolve() : reject(new Error(`go install exited with code ${code}`));
    });
  });
  log(`Built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s.`);
  return join(targetDir, 'temporal');
}

export interface ResolveOptions {
  explicitPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Build with Go when nothing else is found (default true). */
  allowBuild?: boolean;
  log?: (line: string) => void;
}

export async function resolveTemporalCli(options: ResolveOptions = {}): Promise<ResolvedCli | null> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line) => console.log(line));
  if (options.explicitPath) {
    if (!isExecutable(options.explicitPath)) {
      throw new Error(`TEMPORAL_CLI points at ${options.explicitPath}, which is not an executable file`);
    }
    return { path: options.explicitPath, source: 'env' };
  }
  const onPath = findOnPath('temporal', env);
  if (onPath && runsAsTemporal(onPath)) return { path: onPath, source: 'path' };
  const cached = join(cliCacheDir(env), 'temporal');
  if (existsSync(cached) && isExecutable(cached)) return { path: cached, source: 'cache' };
  if (options.allowBuild === false) return null;
  const go = findGo(env);
  if (!go) return null;
  return { path: await buildCliWithGo(go, cliCacheDir(env), log), source: 'built' };
}

function runsAsTemporal(path: string): boolean {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 && /temporal/i.test(result.stdout);
}
