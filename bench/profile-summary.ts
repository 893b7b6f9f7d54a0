/**
 * Where a `--cpu-prof` profile spent its time: self time by function, largest first.
 *
 *   node --cpu-prof --cpu-prof-dir=bench/out/prof --import tsx bench/lifecycle-bench.ts --requests 2000 --one
 *   node --import tsx bench/profile-summary.ts bench/out/prof/CPU.*.cpuprofile [--top 30]
 *
 * Functions are grouped by name and file (`node_modules/<package>` for dependencies), so one row is
 * one function however many call sites it has. `(garbage collector)`, `(program)` and `(idle)` are
 * V8's own rows; the share column is of the whole profile, idle included.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { transformSync } from 'esbuild';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '30' } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  process.stderr.write('usage: bench/profile-summary.ts FILE.cpuprofile [--top N]\n');
  process.exit(2);
}

/** Per compiled file: the map from tsx's one-line output back to the TypeScript lines. */
const maps = new Map<string, SourceMap | null>();

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    const frame = byNode.get(id)!.callFrame;
    const key = `${frame.functionName || '(anonymous)'}  ${where(frame)}`;
    self.set(key, (self.get(key) ?? 0) + delta);
  });
  const busy = total - [...self].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle\n`);
  process.stdout.write(`  self ms   share  function  location\n`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    process.stdout.write(
      `${(us / 1000).toFixed(0).padStart(9)}  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`,
    );
  }
}

function where(frame: CallFrame): string {
  if (!frame.url) return '';
  const url = frame.url.replace(/^file:\/\//, '');
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (dep) return `${dep[1]}:${dep[2]}:${frame.lineNumber + 1}`;
  const path = url.replace(/^.*?\/(src|bench|test|blocks)\//, '$1/');
  return `${path}:${sourceLine(frame)}`;
}

/**
 * The line in the TypeScript source. tsx compiles each file with esbuild on one line
 * (minifyWhitespace), so the profile's positions are columns of that line: compile the file the
 * same way and read the position back through the source map.
 */
function sourceLine(frame: CallFrame): number {
  if (!frame.url.endsWith('.ts')) return frame.lineNumber + 1;
  const file = frame.url.startsWith('file:') ? fileURLToPath(frame.url) : frame.url;
  let map = maps.get(file);
  if (map === undefined) {
    map = null;
    if (existsSync(file)) {
      const out = transformSync(readFileSync(file, 'utf8'), {
        loader: 'ts',
        format: 'esm',
        sourcefile: file,
        sourcemap: 'external',
        minifyWhitespace: true,
        keepNames: true,
        target: `node${process.versions.node}`,
      });
      map = new SourceMap(JSON.parse(out.map) as ConstructorParameters<typeof SourceMap>[0]);
    }
    maps.set(file, map);
  }
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalLine?: number } | undefined;
  return entry?.originalLine !== undefined ? entry.originalLine + 1 : frame.lineNumber + 1;
}
