// Builds the dashboard once before the suite, so browser tests run against current assets.
import { buildDashboard } from '../dashboard/build.ts';

export default async function setup() {
  await buildDashboard();
}
