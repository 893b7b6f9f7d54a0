/**
 * `npm run build`, and `prepare` after every `npm install`/`npm ci`: bundles the bot (src/main.ts)
 * and the CLI (src/cli/main.ts) into dist/ with esbuild, then copies what the runtime reads at run
 * time (dist/drizzle for the migrations, dist/src/sandbox/page for the sandbox page).
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
 * The source maps (dist/*.js.map) point at src/ only: the bundled packages' sources and mappings are
 * dropped (`ownSourcesOnly`), which took the packed tarball from 1.74 to 1.41 MB. `npm run
 * typecheck` checks the types; esbuild only strips them (tsconfig has isolatedModules).
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

/**
 * A source map that maps our own code only: the bundled packages' sources (about 1.4 MB of their
 * text, and the mappings into it) are dropped, which keeps the packed tarball near its size before
 * bundling. A stack frame in our code still maps to src/ (node --enable-source-maps); one in a
 * bundled package shows its place in dist/, whose code esbuild leaves readable.
 */
function ownSourcesOnly(map) {
  const keep = map.sources.map((source) => !source.split('/').includes('node_modules'));
  const index = [];
  let kept = 0;
  for (const k of keep) index.push(k ? kept++ : -1);
  // Each segment's fields are deltas from the previous segment's (the column from the previous one
  // on the same line); decoded to absolute values, filtered, and encoded again. A segment in a
  // dropped source stays as an unmapped column, so the code before it does not take its place.
  const last = [0, 0, 0, 0, 0];
  const written = [0, 0, 0, 0, 0];
  const lines = map.mappings.split(';').map((line) => {
    last[0] = 0;
    written[0] = 0;
    if (line === '') return '';
    return line
      .split(',')
      .map((segment) => {
        const fields = decodeVlq(segment);
        for (let i = 0; i < fields.length; i++) last[i] += fields[i];
        const absolute = last.slice(0, fields.length);
        if (absolute.length > 1 && !keep[absolute[1]]) absolute.length = 1;
        else if (absolute.length > 1) absolute[1] = index[absolute[1]];
        const deltas = absolute.map((value, i) => value - written[i]);
        absolute.forEach((value, i) => (written[i] = value));
        return encodeVlq(deltas);
      })
      .join(',');
  });
  return {
    ...map,
    sources: map.sources.filter((_, i) => keep[i]),
    sourcesContent: map.sourcesContent?.filter((_, i) => keep[i]),
    mappings: lines.join(';'),
  };
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeVlq(segment) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeVlq(values) {
  let text = '';
  for (const value of values) {
    let rest = value < 0 ? (-value << 1) | 1 : value << 1;
    do {
      const digit = rest & 31;
      rest >>>= 5;
      text += BASE64[rest > 0 ? digit | 32 : digit];
    } while (rest > 0);
  }
  return text;
}

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: join(root, 'src/main.ts'), cli: join(root, 'src/cli/main.ts') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
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
for (const file of readdirSync(out).filter((name) => name.endsWith('.js.map'))) {
  const path = join(out, file);
  writeFileSync(path, JSON.stringify(ownSourcesOnly(JSON.parse(readFileSync(path, 'utf8')))));
}
// BUILD_METAFILE=FILE writes esbuild's account of which module went into which output file, and its bytes.
if (result.metafile) writeFileSync(process.env.BUILD_METAFILE, JSON.stringify(result.metafile));
