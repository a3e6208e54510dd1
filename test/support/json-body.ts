/**
 * A parsed JSON response body as the tests read it: field by field, each `expect` checking the shape it
 * needs. Declared once so that the one deliberate `any` of the test suite has one place and one reason.
 */
// biome-ignore lint/suspicious/noExplicitAny: assertions narrow every field they read; `unknown` would need a cast per read.
export type JsonBody = Record<string, any>;
