// zod/mini, tree-shakable (a few kB in a bundle instead of classic zod's ~450 kB), with the
// English messages classic zod registers by itself: issue messages reach API callers and tests.
// Import as `import * as z from '../zod.ts'`; a re-exported namespace object would defeat
// esbuild's tree shaking.
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';

/**
 * A failed parse's issues as `path: message` lines, `(document)` naming the value itself: the one
 * shape every refusal of a document, a configuration or a CLI input lists its problems in.
 */
export function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string[] {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(document)'}: ${i.message}`);
}

/**
 * A schema built on first use, not when its module is imported: building a zod schema runs code
 * for every field, and most functions import a document's module for its types and constants
 * only (the token function never validates a trust relationship; they are validated when
 * stored). Measured by `npm run bench`'s cold-start rows.
 */
export function lazySchema<T>(build: () => T): () => T {
  let schema: T | undefined;
  return () => {
    schema ??= build();
    return schema;
  };
}
