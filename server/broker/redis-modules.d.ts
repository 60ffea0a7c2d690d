// aedes-persistence-redis ships no types; this is the part of it the broker uses.
declare module 'aedes-persistence-redis/asyncPersistence.js' {
  import type { Redis } from 'ioredis';
  export default class AsyncRedisPersistence {
    constructor(opts: { conn?: Redis; maxSessionDelivery?: number; packetTTL?: () => number });
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>;
    outgoingStream(client: unknown): AsyncIterable<unknown>;
    streamWill(brokers: unknown): AsyncIterable<unknown>;
    destroy(): Promise<void>;
  }
}
