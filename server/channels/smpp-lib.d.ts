// The part of the `smpp` library (0.5, untyped) this server uses: sessions, PDUs, the server side.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer } from 'node:net';

  export interface ShortMessage {
    udh?: Buffer[] | Buffer;
    message: string | Buffer;
  }
  export interface PDU {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    short_message?: ShortMessage | string | Buffer;
    response(options?: Record<string, unknown>): PDU;
    isResponse(): boolean;
  }
  export interface Session extends EventEmitter {
    socket: import('node:net').Socket;
    _callbacks: Record<number, (pdu: PDU) => void>;
    send(pdu: PDU, responseCallback?: (pdu: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    bind_transceiver(options: Record<string, unknown>, cb?: (pdu: PDU) => void): boolean;
    submit_sm(options: Record<string, unknown>, cb?: (pdu: PDU) => void, sent?: (pdu: PDU) => void): boolean;
    deliver_sm(options: Record<string, unknown>, cb?: (pdu: PDU) => void): boolean;
    enquire_link(options?: Record<string, unknown>, cb?: (pdu: PDU) => void): boolean;
    unbind(options?: Record<string, unknown>, cb?: (pdu: PDU) => void): boolean;
    close(cb?: () => void): void;
    destroy(cb?: () => void): void;
    pause(): void;
    resume(): void;
  }
  export interface Server extends NetServer {
    sessions: Session[];
  }
  export function connect(options: { host: string; port: number; tls?: boolean; [k: string]: unknown }, listener?: () => void): Session;
  export function createServer(listener: (session: Session) => void): Server;
  export function createServer(options: Record<string, unknown>, listener: (session: Session) => void): Server;
  const smpp: { connect: typeof connect; createServer: typeof createServer };
  export default smpp;
}
