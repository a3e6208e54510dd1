// `node bench/worst-case.ts`: the most a token exchange's condition evaluation can cost. Builds a
// tenant at the assumed per-tenant cap of 100 relationships, each at the caps of
// lib/trust/limits.ts (50 pairs, 200 values, 512-character patterns) with adversarial StringLike
// patterns (a leading star and long `?` runs keep every state alive, astral literals), and a token
// at the 16 KB size cap whose claim every pair reads in full. Measures CPU (process.cpuUsage) and
// matcher steps per request, without a budget (what the caps alone allow) and with the per-request
// budget (the hard ceiling), and prints the cap-derived bounds next to them. Run by bench/run.ts too.
import { compileConditions, type CompiledConditions } from '../lib/trust/conditions.ts';
import { evaluateConditions } from '../lib/trust/evaluate.ts';
import {
  evaluationWork,
  MAX_CLAIM_LENGTH,
  MAX_PAIRS_PER_RELATIONSHIP,
  MAX_PATTERN_LENGTH,
  MAX_TOKEN_BYTES,
  MAX_VALUES_PER_PAIR,
  MAX_VALUES_PER_RELATIONSHIP,
  REQUEST_BUDGET_STEPS,
  requestBudget,
  WORST_CASE_STEPS_PER_RELATIONSHIP,
  type Budget,
} from '../lib/trust/limits.ts';
import { validateRelationship } from '../lib/trust/validate.ts';
import { report } from './processes.ts';

const RELATIONSHIPS_PER_TENANT = 100;
const valuesPerPair = MAX_VALUES_PER_RELATIONSHIP / MAX_PAIRS_PER_RELATIONSHIP;
if (valuesPerPair > MAX_VALUES_PER_PAIR) throw new Error('caps changed: revisit the layout');

// Patterns of exactly 512 characters. A leading `*` keeps the start state alive through the whole
// claim, so nothing ends early; `?` runs maximise tokens (bits) per character; one pattern per pair
// carries astral literals (two UTF-16 units each, one code point).
const fill = (head: string, unit: string, tail: string) =>
  head + unit.repeat(Math.floor((MAX_PATTERN_LENGTH - head.length - tail.length) / unit.length)) + tail;
const PATTERNS = [fill('*', '?', 'x'), fill('*', '?*', 'x'), fill('*', '?', '😀x'), fill('*😀', '?😀', 'x')];
// Keys that all resolve to the one large claim (keys ignore case; `/groups` is the same claim).
const keyVariants = (name: string): string[] => {
  const out: string[] = [];
  for (let mask = 0; mask < 2 ** name.length && out.length < MAX_PAIRS_PER_RELATIONSHIP; mask++) {
    const k = [...name].map((c, i) => (mask & (1 << i) ? c.toUpperCase() : c)).join('');
    out.push(k, `/${k}`);
  }
  return out;
};

function relationship(i: number): Record<string, unknown> {
  const keys = keyVariants('groups').slice(0, MAX_PAIRS_PER_RELATIONSHIP);
  // ForAnyValue:StringLike reads every element until one matches, and none does.
  const pairs = Object.fromEntries(
    keys.map((k, j) => [k, Array.from({ length: valuesPerPair }, (_, v) => PATTERNS[(i + j + v) % PATTERNS.length] as string)]),
  );
  return {
    kind: 'oidc',
    issuer: 'https://ci.example.com',
    audiences: ['fedbroker'],
    scopes: ['id-token:issue'],
    conditions: { 'ForAnyValue:StringLike': pairs },
  };
}

// A token at the size cap: the payload is base64url (4 characters per 3 bytes) beside an RS256
// header and signature; the claim is as many elements of MAX_CLAIM_LENGTH ASCII characters (the
// most code points per byte) as fit.
const payloadBytes = Math.floor(((MAX_TOKEN_BYTES - 40 - 343) * 3) / 4) - 200;
const elements = Math.floor(payloadBytes / (MAX_CLAIM_LENGTH + 3));
const claims = {
  iss: 'https://ci.example.com',
  aud: 'fedbroker',
  sub: 'x',
  groups: Array.from({ length: elements }, (_, e) => String.fromCharCode(97 + (e % 26)).repeat(MAX_CLAIM_LENGTH)),
};
const tokenBytes = Math.ceil((JSON.stringify(claims).length * 4) / 3) + 40 + 343;

const tenant: CompiledConditions[] = [];
for (let i = 0; i < RELATIONSHIPS_PER_TENANT; i++) {
  const doc = relationship(i);
  validateRelationship(doc, { local: false, cognitoIssuer: 'https://cognito-identity.amazonaws.com' }); // accepted at write time
  tenant.push(compileConditions(doc.conditions));
}
const relationshipBytes = JSON.stringify(relationship(0)).length;

function measure(list: CompiledConditions[], budget?: () => Budget) {
  const before = { cpu: process.cpuUsage(), steps: evaluationWork.steps };
  const b = budget?.();
  let granted = 0;
  for (const c of list) if (evaluateConditions(c, claims, b, 'all').matched) granted++;
  const cpu = process.cpuUsage(before.cpu);
  return { cpuMs: (cpu.user + cpu.system) / 1000, steps: evaluationWork.steps - before.steps, granted };
}
const best = (runs: ReturnType<typeof measure>[]) => runs.reduce((a, b) => (b.cpuMs < a.cpuMs ? b : a));

measure(tenant.slice(0, 2)); // warm-up: JIT
const oneUnbounded = best([measure(tenant.slice(0, 1)), measure(tenant.slice(1, 2)), measure(tenant.slice(2, 3))]);
const budgeted = best(Array.from({ length: 5 }, () => measure(tenant, () => requestBudget())));

const result = {
  relationshipsPerTenant: RELATIONSHIPS_PER_TENANT,
  relationshipBytes,
  tokenBytes,
  claimElements: elements,
  bound: {
    stepsPerRelationship: WORST_CASE_STEPS_PER_RELATIONSHIP,
    stepsPerTenant: WORST_CASE_STEPS_PER_RELATIONSHIP * RELATIONSHIPS_PER_TENANT,
    budgetSteps: REQUEST_BUDGET_STEPS,
  },
  unbounded: {
    ...oneUnbounded,
    nsPerStep: (oneUnbounded.cpuMs * 1e6) / oneUnbounded.steps,
    tenantCpuMsEstimate: oneUnbounded.cpuMs * RELATIONSHIPS_PER_TENANT,
  },
  budgeted: { ...budgeted, nsPerStep: (budgeted.cpuMs * 1e6) / budgeted.steps },
};

const n = (x: number) => Math.round(x).toLocaleString('en-US');
process.stderr.write(
  [
    `worst case: ${RELATIONSHIPS_PER_TENANT} relationships of ${n(relationshipBytes)} bytes (${MAX_PAIRS_PER_RELATIONSHIP} pairs, ` +
      `${MAX_VALUES_PER_RELATIONSHIP} values of ${MAX_PATTERN_LENGTH} characters), token ≈ ${n(tokenBytes)} bytes (${elements} × ` +
      `${MAX_CLAIM_LENGTH}-character claim elements)`,
    `| measurement | steps | CPU | cap-derived bound |`,
    `|---|---|---|---|`,
    `| one relationship, no budget | ${n(oneUnbounded.steps)} | ${oneUnbounded.cpuMs.toFixed(1)} ms ` +
      `(${result.unbounded.nsPerStep.toFixed(2)} ns/step) | ${n(WORST_CASE_STEPS_PER_RELATIONSHIP)} steps |`,
    `| ${RELATIONSHIPS_PER_TENANT} relationships, no budget (× ${RELATIONSHIPS_PER_TENANT}, estimated) | ` +
      `${n(oneUnbounded.steps * RELATIONSHIPS_PER_TENANT)} | ${n(result.unbounded.tenantCpuMsEstimate)} ms | ` +
      `${n(result.bound.stepsPerTenant)} steps |`,
    `| ${RELATIONSHIPS_PER_TENANT} relationships, per-request budget (the exchange) | ${n(budgeted.steps)} | ` +
      `${budgeted.cpuMs.toFixed(1)} ms | ${n(REQUEST_BUDGET_STEPS)} steps + one pair's words |`,
    '',
  ].join('\n'),
);
if (process.argv.includes('--json')) await report(result);
