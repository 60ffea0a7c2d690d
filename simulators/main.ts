// The simulator CLI (`npm run sim -- <subcommand> [options]`): device simulators, scenarios and
// the load generator. It speaks to the rest of the system only on the wire (MQTT, serial, HTTP)
// and imports nothing but protocol/.
import { SimFailure, UsageError } from './cli.ts';
import type { Command } from './command.ts';
import { demoCommand } from './demo.ts';
import { eventCommand, telemetryCommand } from './event.ts';
import { jt808Command } from './jt808.ts';
import { loadCommand } from './load.ts';
import { scenarioCommand } from './scenario.ts';
import { serialCommand } from './serial.ts';
import { watchCommand } from './watch.ts';
import { safetyCommand } from './zigbee-safety.ts';

const commands: Command[] = [
  eventCommand,
  telemetryCommand,
  serialCommand,
  demoCommand,
  scenarioCommand,
  loadCommand,
  watchCommand,
  jt808Command,
  safetyCommand,
];

const usage = `Usage: npm run sim -- <subcommand> [options]

Subcommands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run \`npm run sim -- <subcommand> --help\` for its options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`unknown subcommand "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`sim ${name}: ${err.message}\nRun \`npm run sim -- ${name} --help\` for usage.`);
      return 2;
    }
    if (err instanceof SimFailure) {
      console.error(`sim ${name}: FAILED: ${err.message}`);
      return 1;
    }
    console.error(`sim ${name}: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Long-running commands close their own handles; one-shot commands should not hang on a stray timer.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
