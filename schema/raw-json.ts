/**
 * Raw JSON for list fields served by the lean route (server/platform/http/raw-json.ts), for the
 * domains' schema files: a resolver that can write its list's JSON itself hands it over and returns
 * an empty list; anywhere else (yoga's path) it resolves as usual.
 */
import { type FieldNode, type GraphQLResolveInfo, Kind } from 'graphql';
import { acceptsRawJson, holdRawJson, rawJsonBuffer } from '../server/platform/http/raw-json.js';

export { acceptsRawJson, holdRawJson, rawJsonBuffer };

/** A field selected on a list's items: its response key and its name. */
export interface SelectedField {
  key: string;
  name: string;
}

const plainSelections = new WeakMap<FieldNode, readonly SelectedField[] | null>();

/**
 * The fields selected on the items of the resolved field when the selection is plain: one field
 * node, whose items select only leaf fields (aliases allowed; no arguments, directives, fragments
 * or sub-selections), in the order of their first response key as GraphQL executes them; null
 * otherwise (the caller then resolves as usual). Computed once per field node of a document.
 */
export function plainItemSelection(info: GraphQLResolveInfo): readonly SelectedField[] | null {
  if (info.fieldNodes.length !== 1) return null;
  const node = info.fieldNodes[0]!;
  const known = plainSelections.get(node);
  if (known !== undefined) return known;
  let fields: SelectedField[] | null = [];
  const byKey = new Map<string, string>();
  for (const s of node.selectionSet?.selections ?? []) {
    if (s.kind !== Kind.FIELD || s.directives?.length || s.arguments?.length || s.selectionSet) {
      fields = null;
      break;
    }
    const key = s.alias?.value ?? s.name.value;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, s.name.value);
      fields.push({ key, name: s.name.value });
    } else if (seen !== s.name.value) {
      fields = null;
      break;
    }
  }
  if (fields?.length === 0) fields = null;
  plainSelections.set(node, fields);
  return fields;
}
