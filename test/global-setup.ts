// Builds the dashboard once before the suite, so browser tests run against current assets.
// SKIP_DASHBOARD_BUILD=1 skips it when running server-only tests during development.
import { buildDashboard } from '../dashboard/build.ts';

export default async function setup() {
  if (process.env.SKIP_DASHBOARD_BUILD === '1') return;
  await buildDashboard();
}
