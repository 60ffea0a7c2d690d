// What a simulator subcommand is: a name, a one-line summary for the main usage, and a runner
// that takes its own argv and resolves with the process exit code.
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export const CONNECTION_HELP = `Gateway identity (direct mode connects to the broker as this gateway):
  --url URL          broker URL [env CARE_UPLINK_URL, else mqtt://127.0.0.1:1883]
  --site ID          site id [env CARE_SITE_ID]
  --gateway ID       gateway id = MQTT client id = username [env CARE_GATEWAY_ID]
  --secret S         the gateway's secret [env CARE_GATEWAY_SECRET]
  Note: the broker allows one connection per gateway id, so a real gateway running with the
  same id is disconnected while the simulator is connected (and vice versa). Register a
  separate gateway for simulation when a real one is live.`;

export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  site: { type: 'string' },
  gateway: { type: 'string' },
  secret: { type: 'string' },
} as const;
