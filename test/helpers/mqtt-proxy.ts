// A man in the middle for one MQTT 3.1.1 link on loopback: every packet between a client (a real
// gateway) and the server's broker is parsed and passed on, so a test can see the PUBACKs the broker
// sends and hold back the server's `committed` commands, to prove what the client does in between.
import net from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

const opts = { protocolVersion: 4 } as const;
/** The message id the proxy uses for its own barrier publish (the broker counts up from 1). */
const BARRIER_ID = 65_535;

export interface MqttProxy {
  url: string;
  /** Payloads (parsed JSON) of the client's QoS 1 event publishes the broker has PUBACKed, as passed on. */
  pubackedEvents: Array<Record<string, unknown>>;
  /** Holds (true) or passes on (false) `committed` commands to the client; releasing sends the held ones in order. */
  holdConfirmations(hold: boolean): void;
  /** `committed` commands held so far and not yet released. */
  heldConfirmations(): IPublishPacket[];
  /**
   * Resolves when the client has handled every packet passed on to it before the call: the proxy
   * sends it a QoS 1 publish of its own and waits for the PUBACK (which it keeps from the broker).
   * MQTT clients handle packets in order, so every earlier PUBACK's callback has run by then.
   */
  barrier(): Promise<void>;
  close(): Promise<void>;
}

export async function startMqttProxy(brokerPort: number): Promise<MqttProxy> {
  let holding = false;
  const held: Array<{ packet: IPublishPacket; to: net.Socket }> = [];
  const pubackedEvents: Array<Record<string, unknown>> = [];
  const sockets = new Set<net.Socket>();
  let toClient: net.Socket | null = null;
  let barrierDone: (() => void) | null = null;

  const server = net.createServer((client) => {
    const broker = net.connect(brokerPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(broker);
    toClient = client;
    const eventsInFlight = new Map<number, Record<string, unknown>>();
    const up = mqttPacket.parser(opts);
    const down = mqttPacket.parser(opts);
    up.on('packet', (p: Packet) => {
      if (p.cmd === 'puback' && p.messageId === BARRIER_ID && barrierDone) {
        barrierDone();
        barrierDone = null;
        return;
      }
      if (p.cmd === 'publish' && p.qos === 1 && p.topic.endsWith('/events') && p.messageId !== undefined) {
        eventsInFlight.set(p.messageId, JSON.parse(p.payload.toString()) as Record<string, unknown>);
      }
      broker.write(mqttPacket.generate(p, opts));
    });
    down.on('packet', (p: Packet) => {
      if (p.cmd === 'publish' && p.topic.endsWith('/cmd') && holding && String(p.payload).includes('"committed"')) {
        held.push({ packet: p, to: client });
        return;
      }
      if (p.cmd === 'puback' && p.messageId !== undefined) {
        const e = eventsInFlight.get(p.messageId);
        eventsInFlight.delete(p.messageId);
        client.write(mqttPacket.generate(p, opts));
        if (e) pubackedEvents.push(e);
        return;
      }
      client.write(mqttPacket.generate(p, opts));
    });
    const closeBoth = () => {
      client.destroy();
      broker.destroy();
      sockets.delete(client);
      sockets.delete(broker);
    };
    // A packet it cannot parse ends the link: the client sees a lost connection, the test a timeout.
    up.on('error', closeBoth);
    down.on('error', closeBoth);
    client.on('data', (d) => up.parse(d));
    broker.on('data', (d) => down.parse(d));
    client.on('close', closeBoth);
    broker.on('close', closeBoth);
    client.on('error', closeBoth);
    broker.on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `mqtt://127.0.0.1:${port}`,
    pubackedEvents,
    holdConfirmations(hold) {
      holding = hold;
      if (!hold) for (const h of held.splice(0)) if (!h.to.destroyed) h.to.write(mqttPacket.generate(h.packet, opts));
    },
    heldConfirmations: () => held.map((h) => h.packet),
    barrier() {
      const c = toClient;
      if (!c || c.destroyed) return Promise.reject(new Error('mqtt proxy: no client connected'));
      if (barrierDone) return Promise.reject(new Error('mqtt proxy: one barrier at a time'));
      return new Promise<void>((resolve) => {
        barrierDone = resolve;
        c.write(
          mqttPacket.generate(
            {
              cmd: 'publish',
              topic: 'proxy/barrier',
              payload: Buffer.from('{}'),
              qos: 1,
              messageId: BARRIER_ID,
              retain: false,
              dup: false,
            },
            opts,
          ),
        );
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
