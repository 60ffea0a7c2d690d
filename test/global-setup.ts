// Builds the dashboard once before the suite, so browser tests run against current assets.
// SKIP_DASHBOARD_BUILD=1 skips it when running server-only tests during development.
// Also compiles the programs tests start as child processes, from the current source (see
// test/helpers/entries.ts), and hands their paths to the tests.
import type { TestProject } from 'vitest/node';
import { buildDashboard } from '../dashboard/build.ts';
import { buildEntries } from './helpers/entries.ts';

export default async function setup(project: TestProject) {
  project.provide('compiledEntries', process.env.CARE_TEST_CHILDREN === 'tsx' ? {} : await buildEntries());
  if (process.env.SKIP_DASHBOARD_BUILD === '1') return;
  await buildDashboard();
}
