import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** `docker compose` (v2 plugin) where present, else Debian's docker-compose; .ci/run installs the latter. */
function composeCommand(): string[] {
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0) return ['docker-compose'];
  throw new Error('Neither `docker compose` nor `docker-compose` is installed (.ci/run installs docker-compose)');
}

describe('docker-compose.yml', () => {
  it('parses with docker compose config and describes the production deployment', () => {
    const [cmd, ...args] = composeCommand();
    const out = execFileSync(cmd!, [...args, 'config'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        POSTGRES_PASSWORD: 'ci-password',
        ENCRYPTION_KEY: 'Y2ktY2ktY2ktY2ktY2ktY2ktY2ktY2ktY2ktY2k=',
      },
    });
    for (const service of ['postgres', 'temporal', 'temporal-ui', 'api', 'worker']) {
      expect(out).toMatch(new RegExp(`^  ${service}:`, 'm'));
    }
    expect(out).toContain('pgvector/pgvector');
    expect(out).toMatch(/DB: postgres12/);
  });

  it('registers the search attributes workflows set', () => {
    const compose = readFileSync('docker-compose.yml', 'utf8');
    for (const sa of ['OrgId', 'PropertyId', 'LeadId', 'Product']) expect(compose).toContain(sa);
  });
});
