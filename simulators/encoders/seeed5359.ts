// Encoder for the Seeed "53 59" radar frames (MR60FDA1, MR60BHA1, MR24HPC1; devices.md section 1):
// header, control and command words, big-endian length, data, checksum (low 8 bits of the sum from
// the header to the end of the data) and the `54 43` tail. Written apart from the gateway's parser
// so each checks the other.

const HEADER = [0x53, 0x59] as const;
const TAIL = [0x54, 0x43] as const;

/** Builds one frame; `data` is at most 65535 bytes (real devices send a few). */
export function encode5359(control: number, command: number, data: ArrayLike<number> = []): Buffer {
  if (data.length > 0xffff) throw new RangeError('53 59 frame data longer than 65535 bytes');
  const frame = Buffer.alloc(2 + 2 + 2 + data.length + 1 + 2);
  frame[0] = HEADER[0];
  frame[1] = HEADER[1];
  frame[2] = control & 0xff;
  frame[3] = command & 0xff;
  frame.writeUInt16BE(data.length, 4);
  for (let i = 0; i < data.length; i++) frame[6 + i] = (data[i] as number) & 0xff;
  let sum = 0;
  for (let i = 0; i < 6 + data.length; i++) sum += frame[i] as number;
  frame[6 + data.length] = sum & 0xff;
  frame[7 + data.length] = TAIL[0];
  frame[8 + data.length] = TAIL[1];
  return frame;
}

/** The reports a 53 59 radar sends, by control/command word (devices.md section 1 table). */
export const seeed5359 = {
  heartbeat: () => encode5359(0x01, 0x01, [0x0f]),
  presence: (someone: boolean) => encode5359(0x80, 0x01, [someone ? 1 : 0]),
  /** 0 none, 1 stationary, 2 moving. */
  motion: (state: 0 | 1 | 2) => encode5359(0x80, 0x02, [state]),
  fall: (fallen: boolean) => encode5359(0x83, 0x01, [fallen ? 1 : 0]),
  heartRate: (bpm: number) => encode5359(0x85, 0x02, [clampByte(bpm)]),
  breathingRate: (perMin: number) => encode5359(0x81, 0x02, [clampByte(perMin)]),
  /** MR60BHA1 bed state: 0 out of bed, 1 in bed, 2 none. */
  bed: (state: 0 | 1 | 2) => encode5359(0x84, 0x01, [state]),
  /** MR60BHA1 sleep state: 0 deep, 1 light, 2 awake, 3 none. */
  sleepState: (state: 0 | 1 | 2 | 3) => encode5359(0x84, 0x02, [state]),
  /** MR60BHA1 sleep quality score, 0-100. */
  sleepScore: (score: number) => encode5359(0x84, 0x06, [Math.max(0, Math.min(100, Math.round(score)))]),
};

function clampByte(n: number): number {
  return Math.max(0, Math.min(255, Math.round(n)));
}
