// CARE_JT808_PORT: off unless set; a port or 0 (any free one); anything else stops the start naming
// the key. The connection bounds are the watch listener's keys, read even when that listener is off.
import { describe, expect, it } from 'vitest';
import { loadServerConfig, SERVER_ENV_HELP } from '../../server/config.ts';

describe('JT/T 808 listener configuration', () => {
  it('is off by default and takes a port, with the watch bounds', () => {
    expect(loadServerConfig({}).jt808).toBeNull();
    expect(loadServerConfig({ CARE_JT808_PORT: 'off' }).jt808).toBeNull();
    expect(loadServerConfig({ CARE_JT808_PORT: '6808', CARE_WATCH_PORT: 'off', CARE_WATCH_MAX_PER_ADDRESS: '7' }).jt808).toEqual({
      port: 6808,
      maxPerAddress: 7,
      maxConnections: 10_000,
      idleMs: 900_000,
    });
    expect(loadServerConfig({ CARE_JT808_PORT: '0' }).jt808?.port).toBe(0);
  });

  it.each(['70000', 'on', '-1', '80a'])('refuses CARE_JT808_PORT=%s naming the key', (value) => {
    expect(() => loadServerConfig({ CARE_JT808_PORT: value })).toThrow(/CARE_JT808_PORT/);
  });

  it('is in --help with its default', () => {
    expect(SERVER_ENV_HELP).toMatch(/CARE_JT808_PORT[\s\S]*\[off\]/);
  });
});
