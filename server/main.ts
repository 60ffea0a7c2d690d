// `npm run server`: the central process on its own.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadServerConfig, SERVER_ENV_HELP, withConfigFile } from './config.ts';
import { startServer } from './server.ts';

const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' }, config: { type: 'string' } }, strict: true });
if (values.help) {
  console.log(
    `Usage: npm run server\n\nStarts the eldercare server: embedded MQTT broker, ingest, alarm engine,\nREST API, WebSocket feed and the dashboard.\n\n${SERVER_ENV_HELP}`,
  );
  process.exit(0);
}

let config: ReturnType<typeof loadServerConfig>;
try {
  config = loadServerConfig(withConfigFile(process.env, values.config ?? process.env.CARE_CONFIG_FILE));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`configuration error: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
const log = pino({ level: config.logLevel });
const server = await startServer(config, { logger: log }).catch((err: unknown) => {
  log.fatal({ err }, 'server failed to start');
  process.exit(1);
});
if (server.generatedAdminPassword) {
  // Shown once on the terminal, never written to the log.
  process.stdout.write(
    `\nCreated user "admin" with password: ${server.generatedAdminPassword}\n(Shown once. Set CARE_ADMIN_PASSWORD to choose it.)\n\n`,
  );
}
process.stdout.write(`Dashboard: http://localhost:${server.httpPort}/   MQTT: port ${server.mqttPort}\n`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  server.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
