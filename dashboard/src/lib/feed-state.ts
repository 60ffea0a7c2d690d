// The screen's copy of the live feed: open alarms by id, device and gateway status, and the highest
// sequence number seen (sent back as `since=` on reconnect). Pure: each message gives a new state.
import type { Alarm, WsMessage } from '../../../protocol/schemas.ts';

export interface StatusEntry {
  gatewayId: string;
  deviceId: string | null;
  state: string;
  lastSeen: string | null;
  battery: number | null;
}

export interface FeedState {
  /** Highest sequence number applied; null before the first snapshot. */
  seq: number | null;
  alarms: ReadonlyMap<string, Alarm>;
  /** Device status by device id. */
  devices: ReadonlyMap<string, StatusEntry>;
  /** Gateway status by gateway id. */
  gateways: ReadonlyMap<string, StatusEntry>;
}

export const emptyFeed: FeedState = { seq: null, alarms: new Map(), devices: new Map(), gateways: new Map() };

/** Inserts or replaces an alarm by id; a resolved alarm leaves the set. */
export function upsertAlarm(alarms: ReadonlyMap<string, Alarm>, alarm: Alarm): Map<string, Alarm> {
  const next = new Map(alarms);
  if (alarm.state === 'resolved') next.delete(alarm.id);
  else next.set(alarm.id, alarm);
  return next;
}

/**
 * Applies one feed message. A snapshot replaces the open alarms and resets the sequence (the
 * server's numbering is the truth, e.g. after its restart); any other message at or below the
 * sequence already applied is a duplicate from catch-up and is ignored.
 */
export function applyMessage(state: FeedState, msg: WsMessage): FeedState {
  if (msg.type === 'snapshot') {
    const alarms = new Map<string, Alarm>();
    for (const a of msg.alarms) if (a.state !== 'resolved') alarms.set(a.id, a);
    return { ...state, seq: msg.seq, alarms };
  }
  if (state.seq !== null && msg.seq <= state.seq) return state;
  if (msg.type === 'alarm') return { ...state, seq: msg.seq, alarms: upsertAlarm(state.alarms, msg.alarm) };
  const entry: StatusEntry = {
    gatewayId: msg.gatewayId,
    deviceId: msg.deviceId,
    state: msg.state,
    lastSeen: msg.lastSeen,
    battery: msg.battery,
  };
  if (msg.deviceId === null) {
    const gateways = new Map(state.gateways);
    gateways.set(msg.gatewayId, entry);
    return { ...state, seq: msg.seq, gateways };
  }
  const devices = new Map(state.devices);
  const prev = devices.get(msg.deviceId);
  // A status without a battery reading keeps the last one known.
  devices.set(msg.deviceId, { ...entry, battery: entry.battery ?? prev?.battery ?? null });
  return { ...state, seq: msg.seq, devices };
}

/** Parses one WebSocket frame; anything that is not a known feed message is dropped. */
export function parseMessage(data: string): WsMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const o = m as { type?: unknown; seq?: unknown; alarms?: unknown; alarm?: unknown; gatewayId?: unknown };
  if (typeof o.seq !== 'number') return null;
  if (o.type === 'snapshot' && Array.isArray(o.alarms)) return m as WsMessage;
  if (o.type === 'alarm' && typeof o.alarm === 'object' && o.alarm !== null) return m as WsMessage;
  if (o.type === 'device_status' && typeof o.gatewayId === 'string') return m as WsMessage;
  return null;
}
