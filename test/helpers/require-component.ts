// A suite that needs an outside program (PostgreSQL, Redis, Mosquitto, InfluxDB) skips without it
// on a developer's machine, but under CI=true a missing component fails the run: a suite that
// skips there proves nothing and passes silently.

/** True when running in CI (CI=true or CI=1, as CI services set it). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? '').toLowerCase();
  return ci === 'true' || ci === '1';
}

/**
 * Returns `available`; throws under CI when it is false, naming what to install.
 * Use as `describe.skipIf(!requireComponent('postgresql', postgresBin() !== null))(...)`.
 */
export function requireComponent(name: string, available: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!available && inCi(env)) {
    throw new Error(`${name} is missing and CI=true: a suite needing it must fail, not skip (install the ${name} package)`);
  }
  return available;
}
