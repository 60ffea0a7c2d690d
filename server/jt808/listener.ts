// The JT/T 808 listener: GPS elder watches and pendants that speak JT/T 808 (2013 or 2019) connect
// here over TCP. Identity: the terminal phone number in every message's header (BCD digits without
// leading zeros) is the id of a device registered with `kind: "gps_watch"`, as the watch protocol's
// IMEI is; the server speaks for that device's gateway, so its SOS and fall enter ingest as a
// gateway's events do, and its positions are telemetry judged against the home zone, exactly as the
// watch protocol's (server/watch/report.ts). Unknown numbers are answered "no such terminal" (to a
// registration) or not at all, counted, and the connection closed. One connection is one terminal;
// connections, idle time, frame size and rate are bounded.
import type { Reading } from '../../protocol/index.ts';
import { createDeviceListener, type DeviceListenerDeps } from '../device-tcp/listener.ts';
import type { Device } from '../storage/registry.ts';
import { type Bound, createReportSink } from '../watch/report.ts';
import { type BadFrameReason, createFrameReader, encodeFrame, type Jt808Header, type Jt808Message } from './codec.ts';
import type { Jt808Config } from './config.ts';
import {
  alarmFlags,
  decodeBatch,
  decodeLocation,
  decodeRegistration,
  type Jt808Position,
  MSG,
  platformAck,
  REGISTER_RESULT,
  RESULT,
  registerAck,
} from './messages.ts';
import type { Jt808Metrics } from './metrics.ts';

export type Jt808ListenerDeps = DeviceListenerDeps<Jt808Config, Jt808Metrics>;

type Readings = Array<{ metric: Reading['metric']; value: number }>;
const oneOrNull = <T>(x: T | null): T[] | null => (x === null ? null : [x]);
type BadFrame = { ok: false; reason: BadFrameReason; header?: Jt808Header };

export function createJt808Listener(deps: Jt808ListenerDeps) {
  const { config, metrics, log, clock } = deps;
  const sink = createReportSink(deps, { name: 'jt808', eventPrefix: 'j' });

  const listener = createDeviceListener<Jt808Message, BadFrame>({
    name: 'jt808',
    config,
    metrics,
    log,
    heartbeatGateways: () => sink.heartbeatWatchGateways(),
    session(socket) {
      const reader = createFrameReader();
      /** The phone number the connection was bound by (the device id, or it with its leading zeros). */
      let terminal = '';
      let answerSerial = 0;
      const warned = new Set<string>();

      const send = (messageId: number, header: Jt808Header, body: Buffer) => {
        if (socket.destroyed || socket.writableEnded) return;
        answerSerial = (answerSerial + 1) & 0xffff;
        socket.write(encodeFrame(messageId, header, answerSerial, body));
      };
      const ack = (header: Jt808Header, result: number) =>
        send(MSG.platformAck, header, platformAck(header.serial, header.messageId, result));

      /** The terminal named by a message's phone number, if it is a registered gps_watch; else refused. */
      async function authenticate(msg: Jt808Message): Promise<Bound | null> {
        const { header } = msg;
        const device = await lookupTerminal(header);
        if (device?.kind !== 'gps_watch') {
          const reason = device ? 'not_a_watch' : 'unknown_terminal';
          metrics.refused.inc({ reason });
          deps.securityEvent(`jt808_${reason}`);
          log.warn(
            { terminal: header.terminal.slice(0, 20), messageId: header.messageId, reason },
            'jt808 terminal refused: not registered as a gps_watch',
          );
          // A registration is told why (the installer sees it on the terminal); other messages get nothing.
          if (header.messageId === MSG.register)
            send(MSG.registerAck, header, registerAck(header.serial, REGISTER_RESULT.unknownTerminal, ''));
          else if (header.messageId === MSG.auth) ack(header, RESULT.failure);
          socket.end();
          socket.setTimeout(5000);
          return null;
        }
        const gateway = await deps.getGateway(device.gatewayId);
        if (!gateway) {
          metrics.refused.inc({ reason: 'no_gateway' });
          socket.destroy();
          return null;
        }
        log.info(
          { deviceId: device.id, gatewayId: gateway.id, edition: header.version === null ? 2013 : 2019 },
          'jt808 terminal connected',
        );
        return { device, siteId: gateway.siteId, gatewayId: gateway.id };
      }

      /** Handles one message from a bound terminal; false when its body was unusable. */
      async function onMessage(msg: Jt808Message, b: Bound): Promise<boolean> {
        const { header, body } = msg;
        const receivedAt = clock.iso();
        deps.supervision.heardDevice(b.device.id, receivedAt);
        switch (header.messageId) {
          case MSG.register: {
            const reg = decodeRegistration(body, header.version !== null);
            log.info(
              { deviceId: b.device.id, maker: reg?.maker, model: reg?.model, terminalId: reg?.terminalId },
              'jt808 terminal registered',
            );
            // The auth code is not a secret (it travels in clear): the registered number is the gate.
            send(MSG.registerAck, header, registerAck(header.serial, REGISTER_RESULT.ok, b.device.id));
            return true;
          }
          case MSG.auth:
            ack(header, RESULT.ok);
            return true;
          case MSG.heartbeat:
            ack(header, RESULT.ok);
            // Some wearables add battery %, signal and status to the heartbeat (as Traccar reads it).
            if (body.length >= 3 && (body[0] as number) <= 100)
              await sink.sendReadings(b, [{ metric: 'battery', value: body[0] as number }], receivedAt);
            return true;
          case MSG.logout:
            ack(header, RESULT.ok);
            socket.end();
            socket.setTimeout(5000);
            return true;
          case MSG.terminalAck:
            return true;
          case MSG.location:
          case MSG.batch: {
            // One position, or a batch of them (a blind-area resend): answered once every alarm is stored.
            const positions = header.messageId === MSG.location ? oneOrNull(decodeLocation(body)) : (decodeBatch(body)?.positions ?? null);
            if (!positions) {
              ack(header, RESULT.bad);
              return false;
            }
            if (await onPositions(b, positions, receivedAt)) ack(header, RESULT.ok);
            return true;
          }
          default:
            // Text, media, parameters...: nothing this server uses. Said so, so the terminal moves on.
            ack(header, RESULT.unsupported);
            return true;
        }
      }

      return {
        read: (chunk) => reader.push(chunk).map((r) => (r.ok ? { ok: true as const, frame: r.message } : r)),
        onBadFrame(r, bound) {
          if (!warned.has(r.reason)) {
            warned.add(r.reason);
            log.warn(
              { reason: r.reason, terminal: r.header?.terminal.slice(0, 20), messageId: r.header?.messageId },
              r.reason === 'encrypted' || r.reason === 'subpackage'
                ? `jt808 ${r.reason} message refused: not supported; set the terminal to send plain, whole messages`
                : `jt808 bad frame refused (${r.reason})`,
            );
          }
          // Refused for what it asks, not for how it was framed: say so, so it is not resent forever.
          if (r.header && bound && r.header.terminal === terminal) ack(r.header, RESULT.unsupported);
        },
        async authenticate(msg) {
          const b = await authenticate(msg);
          if (b) terminal = msg.header.terminal;
          return b;
        },
        fromBound: (msg) => msg.header.terminal === terminal,
        onFrame: (msg, b) => onMessage(msg, b),
        // A location report (or a batch) whose alarm word has the SOS or a fall bit.
        isAlarm: (msg) => {
          if (msg.header.messageId === MSG.location) {
            const f = msg.body.length >= 4 ? alarmFlags(msg.body.readUInt32BE(0)) : null;
            return Boolean(f && (f.sos || f.fall));
          }
          return msg.header.messageId === MSG.batch && (decodeBatch(msg.body)?.positions.some((p) => p.flags.sos || p.flags.fall) ?? false);
        },
      };
    },
  });

  /**
   * Positions to telemetry, alarm flags to events; the newest valid fix is judged against the home
   * zone (older ones in a batch are history). True once every alarm among them is committed: only
   * then is the report answered, so a terminal resends an alarm that was not stored.
   */
  async function onPositions(b: Bound, positions: Jt808Position[], receivedAt: string): Promise<boolean> {
    let committed = true;
    let newest: { p: Jt808Position; at: string } | null = null;
    for (const p of positions) {
      const at = sink.trustedTime(p.at, receivedAt);
      const readings: Readings = [];
      if (p.valid) readings.push({ metric: 'latitude', value: p.latitude }, { metric: 'longitude', value: p.longitude });
      if (p.battery !== null) readings.push({ metric: 'battery', value: p.battery });
      if (readings.length > 0) await sink.sendReadings(b, readings, at);
      if (p.flags.sos) committed = (await sink.sendEvent(b, 'call', p, at)) && committed;
      if (p.flags.fall) committed = (await sink.sendEvent(b, 'fall', p, at)) && committed;
      if (p.valid && (!newest || at >= newest.at)) newest = { p, at };
    }
    if (newest) await sink.judgeGeofence(b, newest.p, newest.at);
    return committed;
  }

  async function lookupTerminal(header: Jt808Header): Promise<Device | undefined> {
    const found = await deps.lookups.getDevice(header.terminal);
    if (found) return found;
    // Registered with its leading zeros, as printed on some labels.
    const full = header.phoneRaw.toString('hex');
    return full !== header.terminal && /^[0-9]+$/.test(full) ? deps.lookups.getDevice(full) : undefined;
  }

  return listener;
}
export type Jt808Listener = ReturnType<typeof createJt808Listener>;
