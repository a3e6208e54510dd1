import * as z from '../zod.ts';
import { trustRelationshipInputSchema } from './schema.ts';

/** The trust relationship document as JSON Schema (draft 2020-12), derived from the zod schema. */
export function trustRelationshipJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://github.com/fedbroker/fedbroker/schemas/trust-relationship.schema.json',
    title: 'fedbroker trust relationship',
    ...z.toJSONSchema(trustRelationshipInputSchema(), { io: 'input' }),
  };
}
