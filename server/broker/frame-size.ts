// Follows the MQTT fixed headers in a connection's byte stream without keeping any payload, so a
// packet's declared size is known from its first bytes, before the broker's parser buffers it
// (Aedes 1.2 has no maximum packet size: a CONNECT declaring 250 MB was buffered whole).
// Fixed header: one type byte, then the remaining length in 1-4 bytes of 7 bits each [MQTT-2.2.3].

export type FrameVerdict = { ok: true } | { ok: false; reason: 'too_large'; declared: number } | { ok: false; reason: 'malformed' };

const OK: FrameVerdict = { ok: true };

export class FrameSizeWatch {
  /** 'type': next byte starts a packet; 'length': inside the remaining length; 'body': skipping. */
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private lengthBytes = 0;
  private toSkip = 0;

  /** Reads `chunk`; refuses at the first packet whose remaining length exceeds `limit()` bytes. */
  feed(chunk: Uint8Array, limit: () => number): FrameVerdict {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const n = Math.min(this.toSkip, chunk.length - i);
        this.toSkip -= n;
        i += n;
        if (this.toSkip === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i] as number;
      i += 1;
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
      this.lengthBytes += 1;
      if (byte & 0x80) {
        // A fifth length byte is a protocol violation [MQTT-2.2.3]; the parser would refuse it too.
        if (this.lengthBytes === 4) return { ok: false, reason: 'malformed' };
        continue;
      }
      if (this.length > limit()) return { ok: false, reason: 'too_large', declared: this.length };
      this.toSkip = this.length;
      this.state = this.length === 0 ? 'type' : 'body';
    }
    return OK;
  }
}
