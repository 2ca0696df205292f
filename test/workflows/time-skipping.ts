/**
 * Temporal's time-skipping test server for workflow tests with stubbed activities: one
 * environment and one workflow bundle per file. The SDK cannot download the server here; the
 * set-up (scripts/ensure-test-server.sh) fetches the Java one with Maven and writes the executable
 * this hands to `createTimeSkipping` (decision 0054). Shaped like stack-env.ts's StackWorkflowEnv,
 * so withRoomWorkflow runs on it unchanged.
 */
import { existsSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ROOT } from '../helpers/env.js';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { SEARCH_ATTRIBUTES } from '../../vocabulary/search-attributes.js';
import { workflowTestEnv, type StackWorkflowEnv } from './stack-env.js';

/** Written by scripts/ensure-test-server.sh (run by every `npm test` and `npm start`). */
export const TEST_SERVER = `${ROOT}.stack/test-server/temporal-test-server`;

const SDK_TYPE = { Keyword: 'KEYWORD', KeywordList: 'KEYWORD_LIST' } as const;

/**
 * The SDK gives the server 5 s to listen; a JVM on a loaded machine may take longer. A start that
 * timed out is tried again (twice), each attempt on a new port.
 */
async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: TEST_SERVER } },
      });
    } catch (err) {
      if (attempt >= 3 || !/did not start/.test((err as Error).message)) throw err;
    }
  }
}

export function timeSkippingEnv(): StackWorkflowEnv {
  return workflowTestEnv(async () => {
    if (!existsSync(TEST_SERVER))
      throw new Error(`no time-skipping test server at ${TEST_SERVER}: run bash scripts/ensure-test-server.sh (needs java and mvn)`);
    const env = await startTimeSkipping();
    // The room workflow sets our search attributes; the test server knows none until told.
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(
        Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, encodeSearchAttributeIndexedValueType(SDK_TYPE[type])!]),
      ),
    });
    return env;
  }, 120_000);
}
