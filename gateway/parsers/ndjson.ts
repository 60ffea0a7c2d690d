// NDJSON framing for simple devices and I/O boards: one JSON object a line, carrying a device id
// and either an event or a reading (DESIGN.md 3.7). The line buffer is bounded: an over-long line
// is discarded up to the next newline, never buffered without limit.
import { Transform, type TransformCallback } from 'node:stream';
import Type from 'typebox';
import { createDecoder, EVENT_TYPES, ID_PATTERN, METRICS } from '../../protocol/index.ts';

const Line = Type.Union([
  Type.Object(
    {
      device: Type.String({ pattern: ID_PATTERN }),
      type: Type.Enum(EVENT_TYPES),
      data: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown())),
      ts: Type.Optional(Type.String({ format: 'date-time' })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      device: Type.String({ pattern: ID_PATTERN }),
      metric: Type.Enum(METRICS),
      value: Type.Number(),
      ts: Type.Optional(Type.String({ format: 'date-time' })),
    },
    { additionalProperties: false },
  ),
]);
const decodeLine = createDecoder(Line);

export type NdjsonMessage =
  | { kind: 'event'; device: string; type: (typeof EVENT_TYPES)[number]; data?: Record<string, unknown>; ts?: string }
  | { kind: 'reading'; device: string; metric: (typeof METRICS)[number]; value: number; ts?: string }
  | { kind: 'invalid'; reason: string };

export function parseNdjsonLine(line: string): NdjsonMessage {
  const d = decodeLine.decode(line);
  if (!d.ok) return { kind: 'invalid', reason: `${d.reason}: ${d.error}` };
  const v = d.value;
  return 'type' in v ? { kind: 'event', ...v } : { kind: 'reading', ...v };
}

/** Splits a byte stream into lines (LF or CRLF), dropping lines longer than `maxLineBytes`. */
export class BoundedLineParser extends Transform {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;
  private readonly maxLineBytes: number;
  /** Over-long lines dropped so far. */
  overflows = 0;

  constructor(opts: { maxLineBytes?: number } = {}) {
    super({ readableObjectMode: true });
    this.maxLineBytes = opts.maxLineBytes ?? 4096;
    if (!(this.maxLineBytes > 0)) throw new TypeError('maxLineBytes must be positive');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      this.append(chunk.subarray(start, nl));
      if (!this.discarding) {
        const line = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
        if (line.trim() !== '') this.push(line);
      }
      this.parts = [];
      this.size = 0;
      this.discarding = false;
      start = nl + 1;
    }
    this.append(chunk.subarray(start));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.discarding && this.size > 0) {
      const line = Buffer.concat(this.parts).toString('utf8').trim();
      if (line) this.push(line);
    }
    done();
  }

  private append(part: Buffer) {
    if (this.discarding || part.length === 0) return;
    if (this.size + part.length > this.maxLineBytes) {
      this.discarding = true;
      this.overflows += 1;
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(part);
    this.size += part.length;
  }
}
