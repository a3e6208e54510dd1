/**
 * What a trust relationship's (and a trust anchor's) id looks like. Apart from the document's
 * schema (`schema.ts`): access tokens carry the id and are checked against this in every
 * function, most of which never validate a document and so do not bundle zod.
 */
export const RELATIONSHIP_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
