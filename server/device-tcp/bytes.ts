// Byte handling shared by the device protocols' framings (server/watch/frames.ts, server/jt808/codec.ts).

/**
 * Undoes a framing's escaping: each `escapeByte` and the code after it become `decode(code)`;
 * null when a code has no meaning (decode gives undefined) or the escape byte is the last.
 * Returns `wire` itself when it holds no escape byte.
 */
export function unescapeWith(wire: Buffer, escapeByte: number, decode: (code: number) => number | undefined): Buffer | null {
  if (!wire.includes(escapeByte)) return wire;
  const out = Buffer.alloc(wire.length);
  let n = 0;
  for (let i = 0; i < wire.length; i += 1) {
    const b = wire[i] as number;
    if (b !== escapeByte) {
      out[n++] = b;
      continue;
    }
    const code = wire[++i];
    const value = code === undefined ? undefined : decode(code);
    if (value === undefined) return null;
    out[n++] = value;
  }
  return out.subarray(0, n);
}

/** The bytes from the next `byte` at or after `from` on (none when there is no such byte). */
export function skipTo(buf: Buffer, byte: number, from: number): Buffer {
  const next = buf.indexOf(byte, from);
  return next < 0 ? Buffer.alloc(0) : buf.subarray(next);
}

/**
 * A streaming frame reader: TCP may split a frame across reads or put several in one. Bytes that do
 * not start with `startByte` are skipped up to the next one and reported as `garbage()`. `step` is
 * given the held bytes (starting with `startByte`), pushes what it finished (a frame or a refusal)
 * and returns the bytes left, or null to wait for the next read. The buffer holds only what `step`
 * leaves, so its bound is the framing's.
 */
export function createStreamReader<R>(startByte: number, garbage: () => R, step: (buf: Buffer, out: R[]) => Buffer | null) {
  let buf: Buffer = Buffer.alloc(0);
  return {
    /** Feeds one TCP read; returns every complete frame (or refusal) it finished, in order. */
    push(chunk: Buffer): R[] {
      // A copy: the chunk's memory is not kept.
      buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
      const out: R[] = [];
      while (buf.length > 0) {
        if (buf[0] !== startByte) {
          out.push(garbage());
          buf = skipTo(buf, startByte, 0);
          continue;
        }
        const rest = step(buf, out);
        if (rest === null) break;
        buf = rest;
      }
      // Keep only the unfinished frame's bytes, not the whole chunk they were cut from.
      if (buf.length > 0 && buf.buffer.byteLength > buf.length * 2) buf = Buffer.from(buf);
      return out;
    },
    /** Bytes held waiting for the rest of a frame. */
    buffered: () => buf.length,
  };
}
