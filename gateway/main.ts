// `npm run gateway`: the edge process.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, GATEWAY_ENV_HELP, loadGatewayConfig } from './config.ts';
import { startGateway } from './gateway.ts';

const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true });
if (values.help) {
  console.log(
    `Usage: npm run gateway\n\nRuns an edge gateway: reads its devices, keeps every event in a durable outbox\nand delivers it to the server over MQTT.\n\n${GATEWAY_ENV_HELP}`,
  );
  process.exit(0);
}

let gateway: Awaited<ReturnType<typeof startGateway>>;
try {
  const config = loadGatewayConfig();
  gateway = await startGateway(config, { logger: pino({ level: config.logLevel }) });
} catch (err) {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  gateway.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
