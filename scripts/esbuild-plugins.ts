// esbuild plugins of the Lambda bundles: serverless.yml `custom.esbuild.plugins` names this file
// (serverless-esbuild requires it and uses its default export); bench/cold.ts loads it the same way.
import { builtinModules } from 'node:module';
import type { Plugin } from 'esbuild';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const BUILTIN = new RegExp(`^(?:node:)?(?:${builtinModules.map(escapeRegExp).join('|')})$`);

/**
 * Built-ins that only @middy/core's response streaming imports (`streamifyResponse`, which no
 * fedbroker function uses): `node:stream/web`, the WHATWG streams implementation, takes 3–6 ms of
 * a cold start to load. Its exports are classes and functions that do not depend on `this`, so a
 * getter per export loads it on first read instead. No other built-in is deferred.
 */
export const DEFERRED_BUILTINS: readonly string[] = ['stream/web'];

/**
 * Node built-ins reach the bundle through `process.getBuiltinModule` instead of an ESM `import`.
 * Node answers an ESM import of a built-in with a module facade that reads every export once,
 * lazy getters included: `node:http`'s load undici (its `WebSocket`, `fetch` family), `node:fs`'s
 * the file streams, `node:process`'s stdout. That cost ~15 ms of every cold start, for exports the
 * handlers never touch; the CommonJS view evaluates a getter only when it is read.
 */
export const builtinsWithoutFacade: Plugin = {
  name: 'builtins-without-esm-facade',
  setup(build) {
    build.onResolve({ filter: BUILTIN }, (args) => {
      // require() of a built-in already goes to the CommonJS loader (the banner's `require`).
      if (args.kind === 'require-call') return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'node-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => {
      const load = `process.getBuiltinModule(${JSON.stringify(`node:${args.path}`)})`;
      if (!DEFERRED_BUILTINS.includes(args.path)) return { contents: `module.exports = ${load};`, loader: 'js' };
      // The export names come from the building Node (the `node` devDependency, the runtime's major version).
      const names = Object.getOwnPropertyNames(process.getBuiltinModule(`node:${args.path}`));
      return {
        contents:
          `let m;\nfor (const k of ${JSON.stringify(names)})\n` +
          `  Object.defineProperty(exports, k, { enumerable: true, get: () => (m ??= ${load})[k] });`,
        loader: 'js',
      };
    });
  },
};

export default [builtinsWithoutFacade];
