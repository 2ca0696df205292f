/**
 * Whether the Temporal namespace has every custom search attribute our workflows set. A start or
 * an upsert naming an attribute the namespace lacks fails (a room workflow's task would fail
 * again and again on a rename), so the worker checks at start and says what to register.
 */
import type { Client } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { SEARCH_ATTRIBUTES } from '../vocabulary/search-attributes.js';

const SDK_TYPE = { Keyword: 'KEYWORD', KeywordList: 'KEYWORD_LIST' } as const;

/** `{name, type}` of each of our attributes the namespace lacks or has with another type. */
export async function missingSearchAttributes(
  client: Pick<Client, 'connection'>,
  namespace: string,
): Promise<{ name: string; type: string }[]> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  return Object.entries(SEARCH_ATTRIBUTES)
    .filter(([name, type]) => customAttributes?.[name] !== encodeSearchAttributeIndexedValueType(SDK_TYPE[type]))
    .map(([name, type]) => ({ name, type }));
}

/**
 * Throws, naming the command that fixes it, when the namespace lacks one of our attributes.
 * A Temporal that will not list them (no operator rights) is let be: `warn` says so.
 */
export async function requireSearchAttributes(
  client: Pick<Client, 'connection'>,
  namespace: string,
  warn: (message: string) => void,
): Promise<void> {
  let missing: { name: string; type: string }[];
  try {
    missing = await missingSearchAttributes(client, namespace);
  } catch (err) {
    warn(`could not list the search attributes of namespace "${namespace}" (${(err as Error).message}); not checked`);
    return;
  }
  if (missing.length === 0) return;
  const flags = missing.map((m) => `--name ${m.name} --type ${m.type}`).join(' ');
  throw new Error(
    `Temporal namespace "${namespace}" lacks the search attributes ${missing.map((m) => m.name).join(', ')}; ` +
      `register them first: temporal operator search-attribute create --namespace ${namespace} ${flags}`,
  );
}
