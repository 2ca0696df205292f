/**
 * Loaded by path (clients, the worker, and inside the workflow sandbox): failure messages and
 * stack traces go into encoded attributes, so the payload codec encrypts them too. CommonJS
 * (.cts → .cjs) because the SDK loads converter paths with require().
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
