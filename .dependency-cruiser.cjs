/**
 * The layer rule of docs/architecture.md, checked in CI (`npm run lint:deps`).
 *
 *   leaf  →  domain  →  application  →  adapters  →  composition  →  entry points
 *   lib/*.ts  lib/<concept>/  lib/app/  lib/aws, lib/local,  lib/handlers/  functions/, cli/,
 *   lib/net/                             lib/http                           action/, scripts/, bench/
 *
 * A module may import its own layer and the layers to its left, never to its right. Inside the
 * domain the folders are ordered too (DOMAIN below): a concept imports only concepts before it,
 * so the domain has no folder-level cycle either. The table of domain concepts in docs/architecture.md
 * lists them in this order; test/unit/docs/architecture.test.ts fails when the two differ.
 */
const DOMAIN = [
  'keys',
  'cognito',
  'revocation',
  'tenants',
  'audit',
  'upstream',
  'oidc',
  'jwt',
  'trust',
  'x509',
  'tokens',
  'directory',
  'auth',
];
const ADAPTERS = ['aws', 'local', 'http'];

const leaf = '^lib/(?:[^/]+\\.ts$|net/)';
const domainAt = (i) => `^lib/(?:${DOMAIN.slice(i).join('|')})/`;
const domainAll = domainAt(0);
const app = '^lib/app/';
const adapters = `^lib/(?:${ADAPTERS.join('|')})/`;
const composition = '^lib/handlers/';
const entry = '^(?:functions|cli|action|scripts|bench|test)/';

const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    forbid(
      'leaf-imports-up',
      'Leaf utilities (lib/*.ts, lib/net/) import only other leaves.',
      leaf,
      `${domainAll}|${app}|${adapters}|${composition}|${entry}`,
    ),
    ...DOMAIN.map((concept, i) =>
      forbid(
        `domain-${concept}-imports-up`,
        `lib/${concept}/ may import leaves and the domain concepts before it (${DOMAIN.slice(0, i).join(', ') || 'none'}).`,
        `^lib/${concept}/`,
        `${i + 1 < DOMAIN.length ? `${domainAt(i + 1)}|` : ''}${app}|${adapters}|${composition}|${entry}`,
      ),
    ),
    forbid(
      'app-imports-up',
      'Use cases (lib/app/) depend on the domain and its ports, never on an adapter or a handler.',
      app,
      `${adapters}|${composition}|${entry}`,
    ),
    ...ADAPTERS.map((adapter) =>
      forbid(
        `adapter-${adapter}-imports-up`,
        'Adapters implement domain ports; they import no other adapter, no composition and no entry point.',
        `^lib/${adapter}/`,
        `^lib/(?:${ADAPTERS.filter((a) => a !== adapter).join('|')})/|${composition}|${entry}`,
      ),
    ),
    forbid(
      'composition-imports-entry',
      'lib/handlers/ wires the layers below for functions/ and cli/; it never imports them.',
      composition,
      entry,
    ),
    forbid('functions-and-cli-apart', 'Lambda handlers and the CLI share lib/, not each other.', '^functions/', '^cli/'),
    forbid('cli-and-functions-apart', 'Lambda handlers and the CLI share lib/, not each other.', '^cli/', '^functions/'),
    // The GitHub Action (action/) is a client like the CLI and reuses its modules; the CLI never imports it.
    forbid('action-and-functions-apart', 'The GitHub Action is a client: it shares lib/ and cli/ only.', '^action/', '^functions/'),
    forbid('cli-imports-action', 'The CLI does not depend on the GitHub Action.', '^cli/', '^action/'),
    { name: 'no-circular', comment: 'No module-level cycle anywhere.', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(?:node_modules|dist|\\.serverless|\\.esbuild)/' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
