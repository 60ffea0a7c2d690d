// An SMSC run by a test with the `smpp` library's server side: it takes binds (checking the password
// when given one), answers enquire_link and unbind, records every submit_sm, and sends delivery
// receipts (deliver_sm) when the test asks, or at once when `immediateReceipts` is set.
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type Session } from 'smpp';

export interface Submitted {
  to: string;
  dataCoding: number;
  esmClass: number;
  /** The user data header (with its length byte) when the message came in parts. */
  udh: Buffer | null;
  text: string;
  registered: number;
  messageId: string;
}

export interface Smsc {
  port: number;
  readonly sessions: Session[];
  readonly submitted: Submitted[];
  readonly binds: Array<{ systemId: string; password: string }>;
  /** A submit asking for a receipt gets one (delivered) at once, even before the submit's answer. */
  immediateReceipts: boolean;
  /** Sends a delivery receipt with this status (DELIVRD, UNDELIV, ...) on the newest session. */
  receipt(messageId: string, stat: string): void;
  close(): void;
}

/** `password`: binds with another are refused (ESME_RBINDFAIL); none: every bind is taken. */
export async function startSmsc(opts: { password?: string; idPrefix?: string; firstId?: number } = {}): Promise<Smsc> {
  let nextId = opts.firstId ?? 1;
  const sessions: Session[] = [];
  const submitted: Submitted[] = [];
  const binds: Array<{ systemId: string; password: string }> = [];
  const deliver = (session: Session, messageId: string, stat: string) =>
    session.deliver_sm({
      source_addr: '8613800000000',
      destination_addr: '10690000',
      esm_class: 0x04,
      short_message: `id:${messageId} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2611230200 done date:2611230201 stat:${stat} err:000 text:`,
    });
  const server = smpp.createServer((session) => {
    sessions.push(session);
    session.on('bind_transceiver', (pdu: PDU) => {
      binds.push({ systemId: String(pdu.system_id), password: String(pdu.password) });
      const ok = opts.password === undefined || pdu.password === opts.password;
      session.send(pdu.response(ok ? {} : { command_status: 0x0e }));
    });
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('submit_sm', (pdu: PDU) => {
      const sm = pdu.short_message as { udh?: Buffer[]; message: string };
      const messageId = `${opts.idPrefix ?? 'm'}${nextId++}`;
      submitted.push({
        to: String(pdu.destination_addr),
        dataCoding: Number(pdu.data_coding),
        esmClass: Number(pdu.esm_class),
        udh: sm.udh?.[0] ? Buffer.concat([Buffer.from([5]), sm.udh[0]]) : null,
        text: String(sm.message),
        registered: Number(pdu.registered_delivery),
        messageId,
      });
      // An SMSC that reports delivery at once: here the receipt even comes before the answer to the
      // submit, so it certainly arrives before the server knows the message id.
      if (smsc.immediateReceipts && Number(pdu.registered_delivery) === 1) deliver(session, messageId, 'DELIVRD');
      session.send(pdu.response({ message_id: messageId }));
    });
    session.on('unbind', (pdu: PDU) => session.send(pdu.response()));
    session.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const smsc: Smsc = {
    port: (server.address() as AddressInfo).port,
    sessions,
    submitted,
    binds,
    immediateReceipts: false,
    receipt: (messageId, stat) => deliver(sessions[sessions.length - 1] as Session, messageId, stat),
    close() {
      for (const s of sessions) s.destroy();
      server.close();
    },
  };
  return smsc;
}
