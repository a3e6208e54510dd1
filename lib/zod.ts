// zod/mini, tree-shakable (a few kB in a bundle instead of classic zod's ~450 kB), with the
// English messages classic zod registers by itself: issue messages reach API callers and tests.
// Import as `import * as z from '../zod.ts'`; a re-exported namespace object would defeat
// esbuild's tree shaking.
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';

/**
 * One line per issue, `path.to.field: message`, the form of every validation refusal (API bodies,
 * configuration errors); `whole` names an issue of the value as a whole (an empty path).
 */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], whole = ''): string[] {
  return issues.map((i) => `${i.path.map(String).join('.') || whole}: ${i.message}`);
}
