// SMS over SMPP 3.4 to an operator's or aggregator's SMSC (the `smpp` library). One transceiver
// bind per server instance, kept up with enquire_link and re-dialled with the shared backoff
// (protocol/backoff.ts). Chinese goes as UCS-2 (data_coding 8); a text longer than one part is
// split and concatenated with a UDH (8-bit reference). Delivery receipts (deliver_sm with
// esm_class 0x04) come back on the same bind and are handed to `onReceipt` by message id.

import type { Logger } from 'pino';
import smpp, { type PDU, type Session } from 'smpp';
import { createBackoff } from '../../protocol/backoff.ts';
import type { Receipt } from '../alarms/notify.ts';

export interface SmppOptions {
  host: string;
  port: number;
  tls: boolean;
  systemId: string;
  password: string;
  /** source_addr: a short code or number. */
  sender: string;
  enquireMs: number;
  log: Logger;
  /** A delivery receipt for a message id this bind (or another instance's) submitted. */
  onReceipt(r: DeliveryReport): void;
  /** Submits waiting for their submit_sm_resp at once (the SMPP window) [10]. */
  window?: number;
  backoff?: { baseMs: number; capMs: number };
}

export interface DeliveryReport {
  messageId: string;
  delivered: boolean;
  /** The SMSC's final state (DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED). */
  stat: string;
  error?: string;
}

/** SMPP 3.4 5.2.28 message_state values, for SMSCs that send the TLV instead of the text. */
const MESSAGE_STATE: Record<number, string> = { 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV', 6: 'ACCEPTD', 8: 'REJECTD' };
const FINAL_FAILED = new Set(['UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED']);
/** submit_sm_resp errors that no retry will mend (SMPP 3.4 5.1.3): bad destination or source, barred. */
const PERMANENT = new Set([0x0a, 0x0b, 0x0c, 0x0e, 0x0f, 0x48, 0x49, 0x50, 0x51, 0x66]);

/** Text the SMSC's default alphabet carries as is (conservatively: printable ASCII without GSM's escaped characters). */
const GSM_SAFE = /^[A-Za-z0-9 \n\r@$!"#%&'()*+,\-./:;<=>?_]*$/;

export interface SmsPart {
  dataCoding: 0 | 8;
  udh: Buffer | null;
  text: string;
}

/**
 * Splits a text into SMS parts: one part of 70 UCS-2 (or 160 default-alphabet) characters, or
 * several of 67 (153) each with a concatenation UDH (3GPP TS 23.040 9.2.3.24.1).
 */
export function splitSms(text: string, ref: number): SmsPart[] {
  const gsm = GSM_SAFE.test(text);
  const dataCoding = gsm ? 0 : 8;
  // Characters, not UTF-16 units: a character outside the BMP must not be cut in half.
  const chars = [...text];
  const single = gsm ? 160 : 70;
  if (gsm ? chars.length <= single : text.length <= single) return [{ dataCoding, udh: null, text }];
  const size = gsm ? 153 : 67;
  const parts: string[] = [];
  let cur = '';
  for (const ch of chars) {
    if (cur.length + ch.length > size) {
      parts.push(cur);
      cur = '';
    }
    cur += ch;
  }
  if (cur) parts.push(cur);
  const total = Math.min(parts.length, 255);
  return parts.slice(0, total).map((p, i) => ({ dataCoding, udh: Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, i + 1]), text: p }));
}

/** Reads a delivery receipt (SMPP 3.4 Appendix B text, or the receipted_message_id/message_state TLVs). */
export function parseDeliveryReceipt(pdu: PDU): DeliveryReport | null {
  const esm = Number(pdu.esm_class ?? 0);
  if ((esm & 0x3c) !== 0x04) return null;
  const sm = pdu.short_message;
  const raw = typeof sm === 'string' ? sm : Buffer.isBuffer(sm) ? sm.toString('latin1') : sm?.message;
  const text = Buffer.isBuffer(raw) ? raw.toString('latin1') : (raw ?? '');
  const id = (typeof pdu.receipted_message_id === 'string' && pdu.receipted_message_id) || /\bid:(\S+)/i.exec(text)?.[1];
  const stat =
    /\bstat:(\w+)/i.exec(text)?.[1]?.toUpperCase() ??
    (typeof pdu.message_state === 'number' ? MESSAGE_STATE[pdu.message_state] : undefined);
  if (!id || !stat) return null;
  if (stat !== 'DELIVRD' && !FINAL_FAILED.has(stat)) return null;
  const err = /\berr:(\w+)/i.exec(text)?.[1];
  return {
    messageId: id,
    delivered: stat === 'DELIVRD',
    stat,
    ...(stat === 'DELIVRD' ? {} : { error: `SMSC: ${stat}${err ? ` err:${err}` : ''}` }),
  };
}

export function createSmppClient(opts: SmppOptions) {
  const { log } = opts;
  const window = opts.window ?? 10;
  const backoff = createBackoff(opts.backoff ?? { baseMs: 1000, capMs: 60_000 });
  let session: Session | null = null;
  let bound = false;
  let stopped = false;
  let inFlight = 0;
  let ref = Math.floor(Math.random() * 256);
  let reconnectTimer: NodeJS.Timeout | undefined;
  let enquireTimer: NodeJS.Timeout | undefined;
  let enquireAnswered = true;
  /** Waiting for a bind to come up: resolved on bind, bounded by the window. */
  const bindWaiters = new Set<() => void>();

  function dial() {
    if (stopped) return;
    const s = smpp.connect({ host: opts.host, port: opts.port, tls: opts.tls }, () => {
      s.bind_transceiver({ system_id: opts.systemId, password: opts.password, interface_version: 0x34 }, (pdu) => {
        if (pdu.command_status !== 0) {
          // Wrong credentials are logged without them; the bind is retried with backoff.
          log.error({ status: pdu.command_status }, 'SMSC refused the bind');
          s.destroy();
          return;
        }
        bound = true;
        backoff.reset();
        log.info({ host: opts.host }, 'SMPP bound (transceiver)');
        for (const w of bindWaiters) w();
        bindWaiters.clear();
      });
    });
    session = s;
    s.on('deliver_sm', (pdu: PDU) => {
      s.send(pdu.response());
      const report = parseDeliveryReceipt(pdu);
      if (report) opts.onReceipt(report);
    });
    s.on('enquire_link', (pdu: PDU) => s.send(pdu.response()));
    s.on('unbind', (pdu: PDU) => {
      s.send(pdu.response());
      s.close();
    });
    s.on('error', (err: Error) => log.warn({ err: err.message }, 'SMPP connection error'));
    s.on('close', () => {
      if (session === s) {
        session = null;
        bound = false;
      }
      clearInterval(enquireTimer);
      if (stopped) return;
      const delay = backoff.next();
      log.warn({ retryInMs: delay }, 'SMPP connection closed; re-dialling');
      reconnectTimer = setTimeout(dial, delay);
    });
    // A link that stopped answering is closed, so the bind is made again rather than trusted.
    enquireAnswered = true;
    clearInterval(enquireTimer);
    enquireTimer = setInterval(() => {
      if (!bound) return;
      if (!enquireAnswered) {
        log.warn('SMSC did not answer enquire_link; closing the bind');
        s.destroy();
        return;
      }
      enquireAnswered = false;
      s.enquire_link({}, () => {
        enquireAnswered = true;
      });
    }, opts.enquireMs);
    enquireTimer.unref();
  }

  function waitForBind(signal: AbortSignal): Promise<boolean> {
    if (bound) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        bindWaiters.delete(done);
        signal.removeEventListener('abort', abort);
        resolve(bound);
      };
      const abort = () => done();
      bindWaiters.add(done);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  /** One submit_sm; resolves with its response PDU, or null when the signal aborts or the link drops. */
  function submitPart(s: Session, fields: Record<string, unknown>, signal: AbortSignal): Promise<PDU | null> {
    return new Promise((resolve) => {
      let seq = 0;
      const onAbort = () => {
        // The library keeps callbacks until answered: drop ours so an SMSC that never answers costs nothing.
        if (seq) delete s._callbacks[seq];
        s.off('close', onAbort);
        resolve(null);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      s.once('close', onAbort);
      const sent = s.submit_sm(fields, (resp) => {
        signal.removeEventListener('abort', onAbort);
        s.off('close', onAbort);
        resolve(resp);
      });
      if (!sent) onAbort();
      // The library numbers the PDU as it sends it.
      else seq = (s as unknown as { sequence: number }).sequence;
    });
  }

  return {
    start() {
      stopped = false;
      dial();
    },
    get bound() {
      return bound;
    },
    /**
     * Sends one text to one number. `sent` with the SMSC's message id (of the last part, which
     * carries the link) once it took every part; the delivery receipt follows on the bind.
     */
    async send(to: string, text: string, signal: AbortSignal): Promise<Receipt> {
      if (stopped) return { ok: false, error: 'SMPP client stopped', retry: true };
      if (inFlight >= window) return { ok: false, error: 'SMPP window full', retry: true };
      inFlight += 1;
      try {
        // A short wait for a bind being made (a restart, a re-dial) rather than failing at once.
        if (!(await waitForBind(signal)) || !session) return { ok: false, error: 'SMSC not bound', retry: true };
        const s = session;
        ref = (ref + 1) & 0xff;
        const parts = splitSms(text, ref);
        let messageId = '';
        for (const [i, part] of parts.entries()) {
          const last = i === parts.length - 1;
          const resp = await submitPart(
            s,
            {
              source_addr_ton: /^\d{3,8}$/.test(opts.sender) ? 3 : /^\+?\d+$/.test(opts.sender) ? 1 : 5,
              source_addr_npi: /^\+?\d+$/.test(opts.sender) ? 1 : 0,
              source_addr: opts.sender.replace(/^\+/, ''),
              dest_addr_ton: 1,
              dest_addr_npi: 1,
              destination_addr: to.replace(/^\+/, ''),
              data_coding: part.dataCoding,
              // A receipt for the last part only: it carries the link, and one receipt per message is what we track.
              registered_delivery: last ? 1 : 0,
              short_message: part.udh ? { udh: part.udh, message: part.text } : { message: part.text },
            },
            signal,
          );
          if (!resp)
            return { ok: false, error: signal.aborted ? 'SMSC did not answer in time' : 'SMPP link lost while sending', retry: true };
          if (resp.command_status !== 0) {
            const status = resp.command_status;
            return { ok: false, error: `SMSC refused submit_sm: 0x${status.toString(16).padStart(8, '0')}`, retry: !PERMANENT.has(status) };
          }
          messageId = String(resp.message_id ?? '');
        }
        return { ok: true, state: 'sent', providerId: messageId ? `smpp:${messageId}` : null };
      } finally {
        inFlight -= 1;
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearInterval(enquireTimer);
      for (const w of bindWaiters) w();
      const s = session;
      session = null;
      bound = false;
      if (!s) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => s.destroy(() => resolve()), 1000);
        s.unbind({}, () => {
          clearTimeout(t);
          s.close(() => resolve());
        });
        s.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
export type SmppClient = ReturnType<typeof createSmppClient>;
