// The InfluxDB 2.x/3.x back end's line protocol and Flux queries. No 2.x server can run here
// (only 1.x is packaged for Debian), so these check what would be sent, not a live server.
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../protocol/index.ts';
import { loadServerConfig } from '../../server/config.ts';
import { influx1Query } from '../../server/storage/telemetry-influx1.ts';
import { fluxQuery, toLineProtocol } from '../../server/storage/telemetry-influx2.ts';

const point = {
  site_id: 'site 1',
  device_id: 'band,203',
  resident_id: 'res=1',
  metric: 'heart_rate',
  value: 72,
  ts: '2026-11-23T01:00:00.000Z',
};

describe('InfluxDB 2.x line protocol', () => {
  it('escapes tag values with spaces, commas and equals signs, and writes milliseconds', () => {
    const [line] = toLineProtocol([point]);
    expect(line).toBe(`heart_rate,device=band\\,203,resident=res\\=1,site=site\\ 1 value=72 ${Date.parse(point.ts)}`);
  });
  it('leaves out the resident tag for an unassigned device', () => {
    expect(toLineProtocol([{ ...point, resident_id: null }])[0]).not.toContain('resident=');
  });
});

describe('queries', () => {
  const q = { residentId: 'res"1', metric: 'spo2', from: '2026-11-22T00:00:00.000Z', to: '2026-11-23T00:00:00.000Z' };
  it('Flux: filters by resident and metric with escaped strings, and aggregates long ranges', () => {
    const flux = fluxQuery('care', q, 60);
    expect(flux).toContain('r.resident == "res\\"1"');
    expect(flux).toContain('r._measurement == "spo2"');
    expect(flux).toContain('aggregateWindow(every: 60s, fn: mean, createEmpty: false)');
    expect(fluxQuery('care', q, null)).not.toContain('aggregateWindow');
    // Past the limit a series keeps its newest points.
    expect(fluxQuery('care', { ...q, limit: 500 }, null)).toContain('tail(n: 500)');
  });
  it('InfluxQL 1.x: quoted literals and GROUP BY time for long ranges', () => {
    const [stmt] = influx1Query(q, 60);
    expect(stmt).toContain(`"resident" = 'res"1'`);
    expect(stmt).toContain('GROUP BY time(60s), "device"');
    // One statement per metric (InfluxDB 1.x has no union across measurements).
    expect(influx1Query({ ...q, metric: undefined }, null)).toHaveLength(METRICS.length);
    expect(influx1Query(q, null)[0]).toContain('ORDER BY time DESC LIMIT 20000');
  });
});

describe('InfluxDB configuration', () => {
  const url = 'http://influx:8086';
  it('chooses 1.x by database and 2.x by token, org and bucket', () => {
    expect(loadServerConfig({ CARE_INFLUX_URL: url, CARE_INFLUX_DATABASE: 'care' }).influx).toMatchObject({ version: 1 });
    const v2 = { CARE_INFLUX_URL: url, CARE_INFLUX_TOKEN: 't', CARE_INFLUX_ORG: 'o', CARE_INFLUX_BUCKET: 'b' };
    expect(loadServerConfig(v2).influx).toMatchObject({ version: 2, bucket: 'b' });
    expect(loadServerConfig({}).influx).toBeNull();
    expect(loadServerConfig({}).telemetryRetentionDays).toBe(90);
  });
  it.each([
    [{ CARE_INFLUX_URL: url, CARE_INFLUX_TOKEN: 't', CARE_INFLUX_ORG: 'o' }, /^CARE_INFLUX_BUCKET: required/],
    [{ CARE_INFLUX_URL: url, CARE_INFLUX_DATABASE: 'care', CARE_INFLUX_TOKEN: 't' }, /^CARE_INFLUX_TOKEN: .*one or the other/],
    [{ CARE_INFLUX_URL: url, CARE_INFLUX_DATABASE: 'care', CARE_INFLUX_USERNAME: 'u' }, /^CARE_INFLUX_PASSWORD: required/],
    [
      { CARE_INFLUX_URL: url, CARE_INFLUX_TOKEN: 't', CARE_INFLUX_ORG: 'o', CARE_INFLUX_BUCKET: 'b', CARE_INFLUX_PASSWORD: 'p' },
      /^CARE_INFLUX_PASSWORD: for InfluxDB 1.x only/,
    ],
    [{ CARE_INFLUX_URL: 'influx:8086', CARE_INFLUX_DATABASE: 'care' }, /^CARE_INFLUX_URL: /],
    [{ CARE_INFLUX_BUCKET: 'b' }, /^CARE_INFLUX_BUCKET: set, but CARE_INFLUX_URL is not/],
    [{ CARE_TELEMETRY_RETENTION_DAYS: '0' }, /^CARE_TELEMETRY_RETENTION_DAYS: /],
  ])('refuses %o with one message naming the key', (env, message) => {
    expect(() => loadServerConfig(env)).toThrow(message);
  });
});
