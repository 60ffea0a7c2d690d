// Where a simulated device's bytes go: a real serial port (e.g. one end of a socat pty pair), or a
// serial device server listening on TCP (like ser2net) where every connected client receives the
// stream. As on a real serial line, bytes sent while nobody listens are lost.
import net from 'node:net';
import { SerialPort } from 'serialport';
import { SimFailure } from './cli.ts';

export interface WireOutput {
  /** Where it is: `tcp://host:port` or the serial path. */
  readonly address: string;
  write(bytes: Buffer): void;
  /** Connected readers (a serial port counts as one). */
  clients(): number;
  close(): Promise<void>;
}

// A client that stops reading must not make the simulator buffer without limit.
const MAX_BACKLOG_BYTES = 64 * 1024;

export function listenTcp(host: string, port: number, onClient?: (event: 'connected' | 'gone', peer: string) => void): Promise<WireOutput> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    const peer = `${sock.remoteAddress}:${sock.remotePort}`;
    sockets.add(sock);
    onClient?.('connected', peer);
    sock.setNoDelay(true);
    // Whatever the reader sends (queries to the radar) is read and ignored.
    sock.on('data', () => {});
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      sockets.delete(sock);
      onClient?.('gone', peer);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new SimFailure(`cannot listen on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        address: `tcp://${addr.address}:${addr.port}`,
        write(bytes) {
          for (const s of sockets) if (s.writableLength < MAX_BACKLOG_BYTES) s.write(bytes);
        },
        clients: () => sockets.size,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

export function openSerial(path: string, baudRate: number): Promise<WireOutput> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  return new Promise((resolve, reject) => {
    port.open((err) => {
      if (err) return reject(new SimFailure(`cannot open serial port ${path}: ${err.message}`));
      port.on('error', () => {});
      port.on('data', () => {});
      resolve({
        address: path,
        write(bytes) {
          if (port.isOpen && port.writableLength < MAX_BACKLOG_BYTES) port.write(bytes);
        },
        clients: () => (port.isOpen ? 1 : 0),
        close: () => new Promise<void>((done) => (port.isOpen ? port.close(() => done()) : done())),
      });
    });
  });
}
