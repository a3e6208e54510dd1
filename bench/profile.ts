// Reads a V8 .cpuprofile (from `node --cpu-prof`) and names where the time went inside a window:
// self time per package / file and per function, and the share of samples under a few
// fedbroker frames (sync parts only: an async function's continuation counts when it resumes).
import { readFileSync } from 'node:fs';
import { ROOT } from './support.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  sampledMs: number;
  /** Share of the window the main thread was idle: waiting on the libuv pool (WebCrypto) or I/O. */
  idleShare: number;
  byArea: { area: string; share: number }[];
  /** `from`: the nearest package or repository frame that led to it (for native and node: frames). */
  byFunction: { fn: string; share: number; from: string }[];
  frames: { frame: string; share: number }[];
}

/** Where a frame's code lives: a package, a repository file, node internals or V8 itself. */
function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/([^/]+).*/, 'node:$1');
  const path = url.replace(`file://${ROOT}/`, '');
  return path.startsWith('lib/') || path.startsWith('functions/') ? path : `harness (${path.split('/')[0]})`;
}

// The stages of the ID-token path a reader will ask about.
const FRAMES = [
  'verifyAccessToken',
  'jwtVerify',
  'signJwt',
  'sign',
  'parseForm',
  'exchangeToken',
  'mintIdToken',
  'get',
  'runMiddlewares',
  'randomUUID',
  'json',
];

export function summarize(path: string, from: number, to: number, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfArea = new Map<string, number>();
  const selfFn = new Map<string, number>();
  const origins = new Map<string, Map<string, number>>();
  const frames = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from || t > to) continue;
    const node = byId.get(profile.samples[i]!)!;
    const { functionName, url, lineNumber } = node.callFrame;
    total += dt;
    if (functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const a = area(url, functionName);
    selfArea.set(a, (selfArea.get(a) ?? 0) + dt);
    const fnKey = `${functionName || '(anonymous)'} ${a}${url ? `:${lineNumber + 1}` : ''}`;
    selfFn.set(fnKey, (selfFn.get(fnKey) ?? 0) + dt);
    let origin = '';
    for (let id: number | undefined = node.id; id !== undefined && !origin; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.url.includes('node_modules/') || f.url.includes(`${ROOT}/lib/`) || f.url.includes(`${ROOT}/functions/`))
        origin = `${f.functionName || '(anonymous)'} (${area(f.url, f.functionName)})`;
    }
    if (!origin) {
      // No package or repository frame on the stack (an async continuation): name the callers.
      const callers: string[] = [];
      for (let id = parent.get(node.id); id !== undefined && callers.length < 3; id = parent.get(id)) {
        const name = byId.get(id)!.callFrame.functionName;
        if (name && !name.startsWith('(')) callers.push(name);
      }
      origin = callers.length ? `${callers.join(' ← ')} (node)` : '';
    }
    const o = origins.get(fnKey) ?? new Map<string, number>();
    o.set(origin || '—', (o.get(origin || '—') ?? 0) + dt);
    origins.set(fnKey, o);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      const inRepo =
        f.url.includes(`${ROOT}/lib/`) || f.url.includes(`${ROOT}/functions/`) || f.url.includes('/jose/') || f.url.includes('/@middy/');
      if (inRepo && FRAMES.includes(f.functionName)) seen.add(`${f.functionName} (${area(f.url, f.functionName)})`);
    }
    for (const s of seen) frames.set(s, (frames.get(s) ?? 0) + dt);
  }
  const busy = total - idle || 1;
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([k, v]) => [k, Math.round((v / busy) * 1000) / 10] as const);
  return {
    sampledMs: Math.round(total / 1000),
    idleShare: Math.round((idle / (total || 1)) * 1000) / 10,
    byArea: rank(selfArea).map(([area, share]) => ({ area, share })),
    byFunction: rank(selfFn).map(([fn, share]) => ({
      fn,
      share,
      from: [...(origins.get(fn) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '—',
    })),
    frames: rank(frames).map(([frame, share]) => ({ frame, share })),
  };
}
