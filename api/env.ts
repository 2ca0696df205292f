import type { AuthVariables } from './auth.js';

/**
 * The variables every request carries through the Hono app. Apart from the app's dependencies
 * (context.ts), so that the relay's authentication can name it without importing the relay itself.
 */
export type ApiEnv = { Variables: AuthVariables & { requestId: string } };
