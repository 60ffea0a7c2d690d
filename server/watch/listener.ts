// The watch listener (DESIGN.md 3.10): GPS watches and pendants connect here over TCP and speak the
// "watch" protocol. Identity: a watch is a device registered with `kind: "gps_watch"` and `id` = its
// IMEI, under a gateway of its site; the server speaks for that gateway, so a watch's SOS and fall
// enter ingest exactly as a gateway's events do (same validation, idempotency, alarm rules), on the
// topic of the gateway it is registered under. Unknown IMEIs and other kinds are refused and the
// connection closed. One connection is one watch; connections, idle time, frame size and rate are
// bounded by the device listener skeleton shared with JT/T 808 (server/device-tcp/listener.ts).
import type net from 'node:net';
import type { Reading } from '../../protocol/index.ts';
import { createDeviceListener, type DeviceListenerDeps } from '../device-tcp/listener.ts';
import type { WatchConfig } from './config.ts';
import { type BadFrameReason, createFrameReader, encodeFrame, type WatchFrame } from './frames.ts';
import { decodeMessage } from './messages.ts';
import type { WatchMetrics } from './metrics.ts';
import { type Bound, createReportSink } from './report.ts';

export type WatchListenerDeps = DeviceListenerDeps<WatchConfig, WatchMetrics>;

export function createWatchListener(deps: WatchListenerDeps) {
  const { config, metrics, log, clock } = deps;
  const { trustedTime, sendReadings, sendEvent, judgeGeofence, heartbeatWatchGateways } = createReportSink(deps, {
    name: 'watch',
    eventPrefix: 'w',
  });

  const listener = createDeviceListener<WatchFrame, { ok: false; reason: BadFrameReason }>({
    name: 'watch',
    config,
    metrics,
    log,
    heartbeatGateways: heartbeatWatchGateways,
    session(socket) {
      const reader = createFrameReader({ maxContentBytes: config.maxContentBytes });
      return {
        read: (chunk) => reader.push(chunk),
        async authenticate(frame) {
          const b = await authenticate(frame);
          if (!b) socket.destroy();
          return b;
        },
        fromBound: (frame, b) => frame.id === b.device.id,
        onFrame: (frame, b) => onFrame(socket, frame, b),
        isAlarm: (frame) => frame.keyword.toUpperCase().startsWith('AL'),
      };
    },
  });

  async function authenticate(frame: WatchFrame): Promise<Bound | null> {
    const device = await deps.lookups.getDevice(frame.id);
    if (device?.kind !== 'gps_watch') {
      const reason = device ? 'not_a_watch' : 'unknown_imei';
      metrics.refused.inc({ reason });
      deps.securityEvent(`watch_${reason}`);
      log.warn({ deviceId: frame.id.slice(0, 20), reason }, 'watch refused: not registered as a gps_watch');
      return null;
    }
    const gateway = await deps.getGateway(device.gatewayId);
    if (!gateway) {
      metrics.refused.inc({ reason: 'no_gateway' });
      return null;
    }
    log.info({ deviceId: device.id, gatewayId: gateway.id }, 'watch connected');
    return { device, siteId: gateway.siteId, gatewayId: gateway.id };
  }

  const reply = (socket: net.Socket, frame: WatchFrame, content: string) => {
    if (!socket.destroyed) socket.write(encodeFrame(frame.maker, frame.id, frame.index, content));
  };

  /** Handles one frame from a bound watch; false when its content was unusable. */
  async function onFrame(socket: net.Socket, frame: WatchFrame, b: Bound): Promise<boolean> {
    const receivedAt = clock.iso();
    deps.supervision.heardDevice(b.device.id, receivedAt);
    const kw = frame.keyword.toUpperCase();
    // Acknowledgements some watches wait for before they go on.
    if (kw === 'TKQ' || kw === 'TKQ2') {
      reply(socket, frame, kw);
      return true;
    }
    const msg = decodeMessage(frame);
    if (!msg) {
      if (kw === 'LK' || /^(UD|AL|WT)/.test(kw)) return false;
      return true; // a keyword this server has no use for (images, voice, settings): ignored
    }
    if (msg.kind === 'link') {
      reply(socket, frame, 'LK');
      if (msg.battery !== null) await sendReadings(b, [{ metric: 'battery', value: msg.battery }], receivedAt);
      return true;
    }
    if (msg.kind === 'vitals') {
      const r: Array<{ metric: Reading['metric']; value: number }> = [];
      if (msg.heartRate !== null) r.push({ metric: 'heart_rate', value: msg.heartRate });
      if (msg.systolic !== null) r.push({ metric: 'bp_systolic', value: msg.systolic });
      if (msg.diastolic !== null) r.push({ metric: 'bp_diastolic', value: msg.diastolic });
      if (r.length > 0) await sendReadings(b, r, receivedAt);
      return true;
    }
    const p = msg.position;
    const at = trustedTime(p.at, receivedAt);
    const readings: Array<{ metric: Reading['metric']; value: number }> = [];
    if (p.valid) readings.push({ metric: 'latitude', value: p.latitude }, { metric: 'longitude', value: p.longitude });
    if (p.battery !== null) readings.push({ metric: 'battery', value: p.battery });
    if (readings.length > 0) await sendReadings(b, readings, at);
    let committed = true;
    if (msg.alarm) {
      if (msg.flags.sos) committed = (await sendEvent(b, 'call', p, at)) && committed;
      if (msg.flags.fall) committed = (await sendEvent(b, 'fall', p, at)) && committed;
      // Answered once stored: a watch resends an alarm report it has no answer to.
      if (committed) reply(socket, frame, 'AL');
    }
    await judgeGeofence(b, p, at);
    return true;
  }

  return listener;
}
export type WatchListener = ReturnType<typeof createWatchListener>;
