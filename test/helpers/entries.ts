// The programs tests start as child processes (server, gateway, simulator, backup), compiled from
// the current source once per test run instead of through tsx in every child.
//
// Why: a child started with `node --import tsx` sends every module it loads (its own and every
// package's) through tsx's loader hooks, which on Node 20 run on a separate thread; measured here,
// that doubled the CPU a server child spends starting (about 3.2 s instead of 1.5 s) and some
// files start six children. The bundle holds only this repository's TypeScript, transformed by the
// same esbuild that tsx uses; every package stays an ordinary import, loaded by Node exactly as
// under tsx. `import.meta.url`/`dirname`/`filename` keep naming the original source file, so
// assets found next to the source (dashboard/dist, the respond page, the worker boot file) are the
// real ones, and worker threads still load their TypeScript through tsx as in production.
// vitest's global setup builds them (test/global-setup.ts) and hands the paths to the tests;
// without them (a test run some other way, or CARE_TEST_CHILDREN=tsx to compare) children start
// through tsx as before.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export const ENTRY_SCRIPTS = ['server/main.ts', 'gateway/main.ts', 'simulators/main.ts', 'server/backup.ts'] as const;

const root = path.resolve(import.meta.dirname, '../..');

declare module 'vitest' {
  export interface ProvidedContext {
    /** script (relative to the repository) -> compiled bundle (absolute path) */
    compiledEntries: Record<string, string>;
  }
}

/**
 * Bundles each entry script with this repository's modules inlined and packages external. Written
 * under node_modules/.cache so the bundle's package imports resolve from the repository; the file
 * name carries a hash of the content, so runs started at the same time by different people never
 * read each other's half-written or older file.
 */
export async function buildEntries(): Promise<Record<string, string>> {
  const outDir = path.join(root, 'node_modules', '.cache', 'care-test-entries');
  fs.mkdirSync(outDir, { recursive: true });
  // Bundles of older source pile up otherwise (every run of anyone's makes them): those no run has
  // used for an hour go, far longer than a whole suite takes.
  for (const f of fs.readdirSync(outDir)) {
    const file = path.join(outDir, f);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > 3_600_000) fs.rmSync(file, { force: true });
  }
  const keepMetaOfSource: esbuild.Plugin = {
    name: 'keep-import-meta-of-source',
    setup(build) {
      build.onLoad({ filter: /\.(ts|tsx|mts)$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const source = fs.readFileSync(args.path, 'utf8');
        const contents = source
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
        return { contents, loader: args.path.endsWith('.tsx') ? 'tsx' : 'ts' };
      });
    },
  };
  const out: Record<string, string> = {};
  await Promise.all(
    ENTRY_SCRIPTS.map(async (script) => {
      const result = await esbuild.build({
        entryPoints: [path.join(root, script)],
        absWorkingDir: root,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        sourcemap: 'inline',
        write: false,
        logLevel: 'silent',
        plugins: [keepMetaOfSource],
      });
      const code = result.outputFiles[0]?.contents;
      if (!code) throw new Error(`bundling ${script} produced nothing`);
      const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
      const file = path.join(outDir, `${script.replaceAll('/', '_').replace(/\.ts$/, '')}-${hash}.mjs`);
      try {
        const now = new Date();
        fs.utimesSync(file, now, now); // in use: not pruned by another run for the next hour
      } catch {
        // not there (or just pruned by a run starting at the same time): write it
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, code);
        fs.renameSync(tmp, file);
      }
      out[script] = file;
    }),
  );
  return out;
}

/**
 * The node arguments that run `script`: its compiled bundle when the global setup provided one,
 * otherwise the source through tsx. `provided` is vitest's `inject('compiledEntries')`.
 */
export function nodeArgsFor(script: string, provided: Record<string, string> | undefined): string[] {
  const bundle = provided?.[script];
  if (bundle && fs.existsSync(bundle)) return ['--enable-source-maps', bundle];
  return ['--import', 'tsx', path.join(root, script)];
}
