// The contract in docs/contract is what the code says: openapi.json from the routes' schemas and
// the payload schemas from protocol/schemas.ts. When a route or payload changes, this fails until
// `npm run contract` is run and its output committed.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTRACT_DIR, generateContract } from '../../scripts/contract.ts';

describe('docs/contract', () => {
  it('is up to date with the routes and payload schemas (run `npm run contract` if not)', { timeout: 180_000 }, async () => {
    const files = await generateContract();
    const stale = Object.entries(files)
      .filter(([name, content]) => {
        const file = path.join(CONTRACT_DIR, name);
        return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== content;
      })
      .map(([name]) => name);
    expect(stale, 'stale contract files: run `npm run contract`').toEqual([]);
    // Every route the API serves is described (hidden ones aside: health, metrics, broker hooks, /ws).
    const paths = Object.keys((JSON.parse(files['openapi.json'] ?? '{}') as { paths: object }).paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/alarms', '/api/v1/alarms/{id}/ack', '/api/v1/shifts', '/api/v1/auth/login']));
  });
});
