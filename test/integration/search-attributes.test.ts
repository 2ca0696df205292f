/**
 * The worker's check of the Temporal namespace's search attributes (adapters/search-attribute-check.ts)
 * against the stack's dev server: the stack registers every one with its type (scripts/stack.sh);
 * a namespace without them is named, with the command that registers them, and a worker on it
 * refuses to start rather than fail room workflow tasks later.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { msToTs } from '@temporalio/common/lib/time.js';
import { connectTemporal, type TemporalSession } from '../../adapters/temporal.js';
import { missingSearchAttributes, requireSearchAttributes } from '../../adapters/search-attribute-check.js';
import { SEARCH_ATTRIBUTES } from '../../vocabulary/search-attributes.js';
import { eventually, testConfig, uniqueTaskQueue, uniqueTenant } from '../helpers/env.js';
import { startWorker } from '../helpers/processes.js';

const config = testConfig();
const bare = `bare-${uniqueTenant('ns')}`;
let temporal: TemporalSession;

beforeAll(async () => {
  temporal = await connectTemporal(config);
  await temporal.connection.workflowService.registerNamespace({
    namespace: bare,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
});
afterAll(async () => {
  await temporal?.close();
});

describe('the search attributes our workflows set', () => {
  it('are all registered, with their types, on the stack', async () => {
    expect(await missingSearchAttributes(temporal.client, config.temporal.namespace)).toEqual([]);
    const warnings: string[] = [];
    await requireSearchAttributes(temporal.client, config.temporal.namespace, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
  });

  it('are named, with the command that registers them, on a namespace that lacks them', async () => {
    const missing = await eventually(
      async () => missingSearchAttributes(temporal.client, bare),
      30_000,
      `namespace ${bare} to be known`,
    );
    expect(missing).toEqual(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => ({ name, type })));
    await expect(requireSearchAttributes(temporal.client, bare, () => undefined)).rejects.toThrow(
      `temporal operator search-attribute create --namespace ${bare} --name Tenant --type Keyword`,
    );
    await expect(requireSearchAttributes(temporal.client, bare, () => undefined)).rejects.toThrow(
      '--name EntitySlugs --type KeywordList',
    );
  });

  it('keep a worker on such a namespace from starting, saying what to register', async () => {
    const starting = startWorker(uniqueTaskQueue('sa-check'), { TEMPORAL_NAMESPACE: bare });
    await expect(starting).rejects.toThrow(/exited with 2 before it was ready[\s\S]*lacks the search attributes/);
  });
});
