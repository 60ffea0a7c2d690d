// Encoder for the Seeed XIAO-kit radar frames (MR60FDA2, MR60BHA2; devices.md section 2): start of
// frame `01`, frame id, length and type (big-endian), a header checksum over bytes 0-6, the data
// (little-endian numbers) and a data checksum when there is data. Checksum = NOT of the XOR.

export const SOF_TYPES = {
  fall: 0x0e02,
  presence: 0x0f09,
  breathingRate: 0x0a14,
  heartRate: 0x0a15,
  distance: 0x0a16,
  getParameters: 0x0e06,
} as const;

/** Bitwise NOT of the XOR of `bytes`, as one byte. */
export function sofChecksum(bytes: ArrayLike<number>): number {
  let x = 0;
  for (let i = 0; i < bytes.length; i++) x ^= (bytes[i] as number) & 0xff;
  return ~x & 0xff;
}

export function encodeSof(type: number, data: ArrayLike<number> = [], frameId = 0): Buffer {
  if (data.length > 0xffff) throw new RangeError('SOF frame data longer than 65535 bytes');
  const n = data.length;
  const frame = Buffer.alloc(8 + n + (n > 0 ? 1 : 0));
  frame[0] = 0x01;
  frame.writeUInt16BE(frameId & 0xffff, 1);
  frame.writeUInt16BE(n, 3);
  frame.writeUInt16BE(type & 0xffff, 5);
  frame[7] = sofChecksum(frame.subarray(0, 7));
  if (n > 0) {
    for (let i = 0; i < n; i++) frame[8 + i] = (data[i] as number) & 0xff;
    frame[8 + n] = sofChecksum(frame.subarray(8, 8 + n));
  }
  return frame;
}

function float32le(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value, 0);
  return b;
}

function uint16le(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value & 0xffff, 0);
  return b;
}

/** The reports an SOF radar sends; `frameId` is what the device counts (parsers ignore it). */
export const seeedSof = {
  fall: (fallen: boolean, frameId = 0) => encodeSof(SOF_TYPES.fall, [fallen ? 1 : 0], frameId),
  /** BHA2 reads a LE uint16 (FDA2 reads the first byte, which is the same value). */
  presence: (someone: boolean, frameId = 0) => encodeSof(SOF_TYPES.presence, uint16le(someone ? 1 : 0), frameId),
  heartRate: (bpm: number, frameId = 0) => encodeSof(SOF_TYPES.heartRate, float32le(bpm), frameId),
  breathingRate: (perMin: number, frameId = 0) => encodeSof(SOF_TYPES.breathingRate, float32le(perMin), frameId),
  getParameters: (frameId = 0) => encodeSof(SOF_TYPES.getParameters, [], frameId),
};
