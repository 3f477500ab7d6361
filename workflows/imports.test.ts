/**
 * The rule of the workflows room, checked statically: workflow code imports values only from the workflow
 * SDK (`@temporalio/workflow`, and `@temporalio/common`, its sandbox-safe shared package) and from other
 * workflow files; anything else is `import type`. The bundle test catches Node built-ins; this catches a
 * value import of, say, `../db/schema` that would happen to bundle but drag I/O code into the sandbox.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname);
const ALLOWED_PACKAGES = new Set(['@temporalio/workflow', '@temporalio/common']);

function workflowFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'histories' ? [] : workflowFiles(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Value imports and re-exports: `import x from 'm'`, `import { a, type B } from 'm'`, `export … from 'm'`, `import 'm'`. */
export function forbiddenImports(file: string, source: string): string[] {
  const problems: string[] = [];
  const statement =
    /^\s*(import|export)\s+(type\s+)?([\s\S]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (const match of source.matchAll(statement)) {
    const typeOnly = Boolean(match[2]);
    const clause = match[3] ?? '';
    const specifier = match[4] ?? match[5]!;
    // `import { type A, type B } from …` is type-only too.
    const namedOnlyTypes =
      /^\{[^}]*\}$/.test(clause.trim()) &&
      clause
        .replace(/[{}\s]/g, '')
        .split(',')
        .filter(Boolean)
        .every((n) => n.startsWith('type'));
    if (typeOnly || (clause && namedOnlyTypes)) continue;
    if (ALLOWED_PACKAGES.has(specifier)) continue;
    if (specifier.startsWith('.')) {
      const target = resolve(join(file, '..'), specifier);
      if (target.startsWith(ROOT + '/') || target === ROOT) continue;
    }
    problems.push(`${relative(ROOT, file)}: ${match[0].trim().split('\n')[0]}`);
  }
  return problems;
}

describe('workflows/ import rule', () => {
  it('imports values only from the workflow SDK and other workflow files', () => {
    const files = workflowFiles(ROOT);
    expect(files.length).toBeGreaterThan(2);
    const problems = files.flatMap((file) => forbiddenImports(file, readFileSync(file, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('flags value imports from elsewhere and lets type imports through (control)', () => {
    const file = join(ROOT, 'example.ts');
    const bad = [
      "import { db } from '../db/client';",
      "import postgres from 'postgres';",
      "import 'node:fs';",
      "export { x } from '../api/app';",
      "import { sleep, type Duration } from '@temporalio/client';",
    ];
    for (const line of bad) expect(forbiddenImports(file, line), line).toHaveLength(1);
    const good = [
      "import type { Database } from '../db/client';",
      "import { type Config } from '../config';",
      "import { proxyActivities, sleep } from '@temporalio/workflow';",
      "import { defineSearchAttributeKey } from '@temporalio/common';",
      "import { webhookEventWorkflow } from './webhooks';",
      "export * from './webhooks';",
    ];
    for (const line of good) expect(forbiddenImports(file, line), line).toEqual([]);
  });
});
