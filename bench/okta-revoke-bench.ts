/**
 * Revokes 2,000 Okta group memberships against the local Okta stand-in limited to N membership
 * calls per window, through the real SDK and OktaDirectory (gate, pacing, read-back).
 *
 *   node --import tsx bench/okta-revoke-bench.ts                       # 600 per 60 s (about 3.3 min)
 *   node --import tsx bench/okta-revoke-bench.ts --window-ms 6000      # same budget, time base x10 faster
 *   options: --count 2000 --limit 600 --window-ms 60000 --concurrency 5 --workers 25
 *
 * Reports: achieved rate as a fraction of the limit (goal >= 0.9), 429s received (goal: none
 * after the first), lost removals (must be 0), total time against the minimum.
 */
import { OktaDirectory } from '../src/adapters/okta/okta-directory.js';
import { OktaStandIn } from '../test/okta/okta-stand-in.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const count = arg('count', 2000);
const limit = arg('limit', 600);
const windowMs = arg('window-ms', 60_000);
const concurrency = arg('concurrency', 5);
const workers = arg('workers', 25);

// The time base applies to every bucket: the read-back (GET /users/{id}/groups, 1,200 per window by
// default) must be scaled too, or it becomes the bottleneck of a scaled run.
const scaled = { windowMs };
const okta = new OktaStandIn({
  rateLimits: {
    membership: { limit, windowMs },
    userGroups: { limit: 1200, ...scaled },
    group: { limit: 1000, ...scaled },
    groups: { limit: 600, ...scaled },
  },
});
okta.addGroup({ id: '00gbench', name: 'bench-group' });
for (let i = 0; i < count; i++) {
  const id = `00ub${String(i).padStart(5, '0')}`;
  okta.addUser({ id, email: `b${i}@example.com` }).addMember('00gbench', id);
}
const { url } = await okta.start();
const directory = new OktaDirectory({
  orgUrl: url,
  auth: { mode: 'token', token: okta.token },
  managerAttribute: 'managerId',
  concurrency,
});
await directory.findGroup('bench-group');

const failures: { id: string; error: string }[] = [];
let next = 0;
const started = Date.now();
await Promise.all(
  Array.from({ length: workers }, async () => {
    while (next < count) {
      const id = `00ub${String(next++).padStart(5, '0')}`;
      try {
        await directory.removeFromGroup(id, 'bench-group');
      } catch (error) {
        failures.push({ id, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }),
);
const elapsedMs = Date.now() - started;
await okta.stop();

const deletes = okta.matching('/api/v1/groups/00gbench/users/', 'DELETE');
const limited = deletes.filter((r) => r.status === 429);
const stillMembers = okta.memberIds('00gbench').length;
const perWindow = new Map<number, number>();
for (const r of deletes)
  if (r.status === 204)
    perWindow.set(Math.floor(r.at / windowMs), (perWindow.get(Math.floor(r.at / windowMs)) ?? 0) + 1);
const limitPerMs = limit / windowMs;
const achieved = count / elapsedMs;
const minimumMs = (count / limit) * windowMs;

// The first and last windows are partial (the run starts and ends mid-window); a full window
// in between shows the steady-state rate.
const windows = [...perWindow.values()];
const full = windows.slice(1, -1);
const steadyState = full.length > 0 ? full.reduce((a, b) => a + b, 0) / full.length / limit : null;

const report = {
  scale: `${limit} membership calls per ${windowMs / 1000} s window (${((limit / windowMs) * 60_000).toFixed(0)}/min)`,
  removals: count,
  elapsedSeconds: +(elapsedMs / 1000).toFixed(1),
  minimumSeconds: +(minimumMs / 1000).toFixed(1),
  achievedRateFractionOfLimit: +(achieved / limitPerMs).toFixed(3),
  steadyStateFractionOfLimit: steadyState === null ? null : +steadyState.toFixed(3),
  deleteRequests: deletes.length,
  rateLimited429: limited.length,
  rateLimitedAfterFirst: Math.max(0, limited.length - 1),
  lostRemovals: failures.length + stillMembers,
  failures: failures.slice(0, 5),
  stillMembers,
  successfulDeletesPerWindow: windows,
  gate: directory.gateStats(),
  readBacks: okta.count(/^\/api\/v1\/users\/[^/]+\/groups$/, 'GET'),
};
console.log(JSON.stringify(report, null, 2));
process.exitCode = report.lostRemovals === 0 ? 0 : 1;
