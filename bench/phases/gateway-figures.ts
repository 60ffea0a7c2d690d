// One gateway's figures: events/s accepted to its fsynced outbox, events/s delivered to a server
// and confirmed, and radar frames/s parsed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deliveryRate, outboxAcceptRate, parseRate } from '../gateway.ts';
import { log, type Settings, startServer } from './common.ts';

export async function gatewayFiguresPhase(P: Settings) {
  log('gateway: outbox accept rate, delivery rate, radar frame parse rate');
  const outboxAcceptsPerSec = outboxAcceptRate(P.quick ? 1000 : 5000);
  const radarFramesParsedPerSec = await parseRate(P.quick ? 100_000 : 1_000_000);
  const s = await startServer(fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-deliver-')), {}, 'gateway');
  try {
    const deliveredPerSec = await deliveryRate(s, P.quick ? 1000 : 10_000);
    return { outboxAcceptsPerSec, radarFramesParsedPerSec, deliveredPerSec };
  } finally {
    await s.stop();
  }
}
