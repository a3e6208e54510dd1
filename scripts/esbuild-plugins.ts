// esbuild plugins of the Lambda bundles: serverless.yml `custom.esbuild.plugins` names this file
// (serverless-esbuild requires it and uses its default export); bench/cold.ts loads it the same way.
import { builtinModules } from 'node:module';
import type { Plugin } from 'esbuild';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const BUILTIN = new RegExp(`^(?:node:)?(?:${builtinModules.map(escapeRegExp).join('|')})$`);

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
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

export default [builtinsWithoutFacade];
