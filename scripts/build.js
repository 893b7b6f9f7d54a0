/**
 * `npm run build`, and `prepare` after every `npm install`/`npm ci`: bundles the bot (src/main.ts),
 * the CLI (src/cli/main.ts) and the export's CSV writer thread (a worker's module, loaded by file)
 * into dist/ with esbuild, then copies what the runtime reads at run time (dist/drizzle for the
 * migrations, dist/src/sandbox/page for the sandbox page).
 *
 * Why a bundle (issue 20): a command spent much of its start-up loading and compiling some 280 ES
 * modules one by one, most of them drizzle-orm's and zod's, before reading a row. Bundled, they are
 * a few files: `access-bot export` of an empty database takes about 0.3 s of CPU, where it took 0.6
 * to 0.7 s (bench/export-bench.ts measures the million-event export). `splitting` keeps every
 * `import()` in the sources lazy: each becomes its own chunk, loaded only when that path runs (a CLI
 * command, the sandbox, Okta, PostgreSQL).
 *
 * What is bundled: our sources, and the pure-JavaScript packages listed in BUNDLED. Everything else
 * stays a plain import of node_modules, as before: better-sqlite3 (a native addon), pg (its optional
 * native binding), and the Slack and Okta SDKs, whose modules src/adapters/slack/bolt.ts and
 * src/adapters/okta/okta-client.ts require by path and defer through Node's module cache
 * (load-on-first-use.ts), which only works on the packages' own files. A new dependency is
 * therefore external until it is added to BUNDLED, deliberately.
 *
 * zod is imported as `import * as z from 'zod'` (lint holds it): `import { z }` makes its whole `z`
 * namespace one object that the bundle must keep whole, every locale included (about 560 kB more
 * for each command to load).
 *
 * `import.meta.url`: every output file is written directly in dist/ (checked below), and in each
 * of our modules `import.meta.url` is replaced by the URL that module would have in the layout of
 * the sources (dist/src/<path>.js), so a path resolved from it (`../../../drizzle/sqlite`) lands
 * where it did before bundling and where it does from src/ under tsx (tests, `npm run dev`).
 *
 * The source maps (dist/*.js.map) hold positions, not sources (`sourcesContent: false`): a stack
 * frame maps to its file and line in src/ (or in a bundled package) with node --enable-source-maps,
 * and the packed tarball does not carry every bundled package's text a second time (1.74 MB with
 * the sources, 0.95 MB without). `npm run typecheck` checks the types; esbuild only strips them
 * (tsconfig has isolatedModules).
 */
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist');
const ASSETS = ['drizzle', 'src/sandbox/page'];
/** Pure-JavaScript dependencies compiled into the bundle (the rest stay in node_modules). */
const BUNDLED = ['drizzle-orm', 'zod', 'yaml', 'papaparse', 'node-cron'];

const packageName = (specifier) => {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
};

/** Bare imports of anything but BUNDLED stay imports of node_modules. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('node:') || !BUNDLED.includes(packageName(args.path))
        ? { path: args.path, external: true }
        : undefined,
    );
  },
};

/** In our modules, `import.meta.url` is the module's URL in the layout of the sources (see above). */
const moduleUrls = {
  name: 'module-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const path = relative(root, args.path);
      if (path.startsWith('..') || path.split(sep)[0] === 'node_modules') return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const asInSources = './' + path.split(sep).join('/').replace(/\.ts$/, '.js');
      return {
        contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(asInSources)}, import.meta.url).href`),
        loader: 'ts',
      };
    });
  },
};

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: {
    main: join(root, 'src/main.ts'),
    cli: join(root, 'src/cli/main.ts'),
    // A worker's module, loaded by file (src/adapters/csv/threaded-csv-sink.ts).
    'csv-writer-thread': join(root, 'src/adapters/csv/csv-writer-thread.ts'),
  },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  sourcesContent: false,
  // CommonJS packages in the bundle (papaparse, yaml, node-cron) require Node's built-ins.
  banner: {
    js:
      "import { createRequire as __createRequire } from 'node:module';\n" +
      'const require = __createRequire(import.meta.url);',
  },
  plugins: [externals, moduleUrls],
  logLevel: 'warning',
  metafile: !!process.env.BUILD_METAFILE,
});
const nested = readdirSync(out, { withFileTypes: true }).filter((entry) => entry.isDirectory());
if (nested.length > 0) throw new Error(`build: output outside dist/ itself: ${nested.map((e) => e.name).join(', ')}`);
for (const asset of ASSETS) cpSync(join(root, asset), join(out, asset), { recursive: true });
// BUILD_METAFILE=FILE writes esbuild's account of which module went into which output file, and its bytes.
if (result.metafile) writeFileSync(process.env.BUILD_METAFILE, JSON.stringify(result.metafile));
