// Builds the dashboard (dashboard/src -> dashboard/dist) with esbuild. Run by `npm install`
// (postinstall), `npm start` (prestart) and the test setup, so no separate build step is needed.
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = import.meta.dirname;
const out = path.join(root, 'dist');

export async function buildDashboard(): Promise<void> {
  fs.mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'src/main.tsx')],
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    outfile: path.join(out, 'app.js'),
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'warning',
  });
  for (const f of fs.readdirSync(path.join(root, 'public'))) fs.copyFileSync(path.join(root, 'public', f), path.join(out, f));
  // Leaflet for the centre's map, served from our origin (CSP 'self') and loaded only on that page.
  const leaflet = path.join(root, '../node_modules/leaflet/dist');
  for (const f of ['leaflet.js', 'leaflet.css']) fs.copyFileSync(path.join(leaflet, f), path.join(out, f));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await buildDashboard();
}
