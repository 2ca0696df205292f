import { describe, expect, it } from '@jest/globals';
import { ActivityFailure, ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { updateCause } from '../../worker/gateway.js';

describe('updateCause', () => {
  it('answers a failed Update with the application failure behind it, type and retryability kept', () => {
    const root = ApplicationFailure.create({ type: 'MatrixForbidden', message: 'the bot is not in the room', nonRetryable: true });
    const activity = new ActivityFailure('activity failed', 'ensureRoom', 'ensureRoom', undefined, '1', root);
    const failure = updateCause(new WorkflowUpdateFailedError('Workflow Update failed', activity)) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.message).toBe('the bot is not in the room');
    expect(failure.type).toBe('MatrixForbidden');
    expect(failure.nonRetryable).toBe(true);
  });

  it('leaves other errors and causeless Update failures as they are', () => {
    const plain = new Error('connection refused');
    expect(updateCause(plain)).toBe(plain);
    const bare = new WorkflowUpdateFailedError('Workflow Update failed', undefined);
    expect(updateCause(bare)).toBe(bare);
  });
});
