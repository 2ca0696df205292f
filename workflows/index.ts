/** Every workflow the worker registers. */
export { provisionUserWorkflow } from './provision-user.js';
