// Server configuration: every bad key stops the start with a message naming it; the optional
// config file holds the same keys, and the environment wins over it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfig, readServerEnv, SERVER_ENV_HELP, ServerEnv, withConfigFile } from '../../server/config.ts';
import { tempDir } from '../helpers/harness.ts';

describe('server configuration', () => {
  it.each([
    [{ CARE_HTTP_PORT: 'eighty' }, /CARE_HTTP_PORT/],
    [{ CARE_MQTT_PORT: '70000' }, /CARE_MQTT_PORT/],
    [{ CARE_ADMIN_PASSWORD: 'short' }, /CARE_ADMIN_PASSWORD/],
    [{ CARE_DATABASE_URL: 'mysql://x' }, /CARE_DATABASE_URL/],
    [{ CARE_INFLUX_URL: 'http://influx:8086' }, /CARE_INFLUX_DATABASE/],
    [{ CARE_INFLUX_URL: 'http://influx:8086', CARE_INFLUX_TOKEN: 't' }, /CARE_INFLUX_ORG/],
    [{ CARE_TLS_CERT: '/nonexistent.pem' }, /CARE_TLS_KEY/],
    [{ CARE_LOG_LEVEL: 'loud' }, /CARE_LOG_LEVEL/],
    [{ CARE_MQTT_MAX_PACKET_BYTES: '1000' }, /CARE_MQTT_MAX_PACKET_BYTES: .*at least 65536/],
    [{ CARE_LOGIN_ADDRESS_LIMIT: '0' }, /CARE_LOGIN_ADDRESS_LIMIT/],
    [{ CARE_ALLOWED_ORIGINS: 'evil' }, /CARE_ALLOWED_ORIGINS/],
    [{ CARE_REDIS_URL: 'redis://r:6379' }, /CARE_REDIS_URL: .*CARE_DATABASE_URL/],
    [{ CARE_MQTT_URL: 'mqtt://m', CARE_MQTT_PROVISIONING: 'none' }, /CARE_BROKER_HOOK_SECRET: required/],
    [{ CARE_MQTT_URL: 'mqtt://m', CARE_MQTT_PROVISIONING: 'emqx' }, /CARE_MQTT_PROVISIONING: "emqx"/],
    [
      { CARE_MQTT_PROVISIONING: 'none', CARE_BROKER_HOOK_SECRET: 'a-long-enough-hook-secret' },
      /CARE_MQTT_PROVISIONING: set, but CARE_MQTT_URL/,
    ],
    [{ CARE_BROKER_HOOK_SECRET: 'short' }, /CARE_BROKER_HOOK_SECRET: must be at least 16/],
    [{ CARE_BROKER_HEARTBEAT_SECONDS: '0' }, /CARE_BROKER_HEARTBEAT_SECONDS/],
    [{ CARE_REDIS_URL: 'http://r:6379', CARE_DATABASE_URL: 'postgres://p/care' }, /CARE_REDIS_URL: must be a redis/],
    [
      { CARE_REDIS_URL: 'redis://r:6379', CARE_DATABASE_URL: 'postgres://p/care', CARE_MQTT_URL: 'mqtt://m' },
      /CARE_REDIS_URL: .*CARE_MQTT_URL/,
    ],
  ])('refuses %o naming the key', (env, key) => {
    expect(() => loadServerConfig(env)).toThrow(key);
  });

  it('takes a clustered broker with shared state', () => {
    const config = loadServerConfig({ CARE_REDIS_URL: 'redis://:pw@r:6379', CARE_DATABASE_URL: 'postgres://p/care' });
    expect(config).toMatchObject({ redisUrl: 'redis://:pw@r:6379', databaseUrl: 'postgres://p/care', mqttUrl: undefined });
  });

  it('reads a config file of CARE_* keys, the environment winning', () => {
    const file = path.join(tempDir(), 'server.json');
    fs.writeFileSync(file, JSON.stringify({ CARE_HTTP_PORT: 9090, CARE_MQTT_PORT: '2883', CARE_LOG_LEVEL: 'warn' }));
    const config = loadServerConfig(withConfigFile({ CARE_MQTT_PORT: '3883' }, file));
    expect(config).toMatchObject({ httpPort: 9090, mqttPort: 3883, logLevel: 'warn' });
  });

  it('refuses a config file with keys that are not settings', () => {
    const file = path.join(tempDir(), 'server.json');
    fs.writeFileSync(file, JSON.stringify({ HTTP_PORT: 1 }));
    expect(() => withConfigFile({}, file)).toThrow(/"HTTP_PORT" is not a CARE_\* setting/);
  });

  it('prints every key of the schema in --help, with the default the server uses', () => {
    const defaults = readServerEnv({});
    for (const key of Object.keys(ServerEnv.properties)) expect(SERVER_ENV_HELP).toContain(`  ${key}`);
    const line = (key: string) => SERVER_ENV_HELP.slice(SERVER_ENV_HELP.indexOf(`  ${key} `)).split(/\n {2}CARE_/)[0] ?? '';
    expect(line('CARE_HTTP_PORT')).toContain(`[${defaults.CARE_HTTP_PORT}]`);
    expect(line('CARE_TOKEN_TTL_MINUTES')).toContain('[720]');
    expect(loadServerConfig({})).toMatchObject({
      httpPort: 8080,
      tokenTtlMs: 720 * 60_000,
      mqttMaxPacketBytes: 1024 * 1024,
      logLevel: 'info',
    });
    // Keys other modules read are listed too.
    expect(SERVER_ENV_HELP).toContain('CARE_SMS_PROVIDER');
    expect(SERVER_ENV_HELP).toContain('CARE_WATCH_PORT');
  });

  it('names the key and its wrong value, but never a secret', () => {
    expect(() => loadServerConfig({ CARE_NOTIFY_CAP_PER_CONTACT: '2.5' })).toThrow(
      'CARE_NOTIFY_CAP_PER_CONTACT: "2.5" must be a whole number of at least 1',
    );
    expect(() => loadServerConfig({ CARE_API_DOCS: 'yes' })).toThrow('CARE_API_DOCS: "yes" is not on or off');
    const secret = 'has a space but is long';
    expect(() => loadServerConfig({ CARE_METRICS_TOKEN: secret })).toThrow(/^CARE_METRICS_TOKEN: must be/);
    expect(() => loadServerConfig({ CARE_DATABASE_URL: 'mysql://root:hunter2@db' })).not.toThrow(/hunter2/);
  });
});
