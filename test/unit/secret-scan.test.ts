import { describe, expect, it } from '@jest/globals';
import { findSecrets, secretsOfEnv, withDecodedData } from '../../scripts/secret-scan-lib.js';

const token = 'syt_b21fYWNtZV9hbGljZQ_AbCdEfGhIjKlMnOp_1a2b3c';
const secrets = new Map([['access token of acme/alice', token]]);

describe('the secret scan', () => {
  it('finds a secret written as is, as hex (bytea) and as base64', () => {
    expect(findSecrets(`log line Authorization: Bearer ${token}`, secrets, 'log')).toHaveLength(1);
    expect(findSecrets(`\\x${Buffer.from(token).toString('hex')}`, secrets, 'table')).toHaveLength(1);
    expect(findSecrets(Buffer.from(token).toString('base64'), secrets, 'history')).toHaveLength(1);
    expect(findSecrets('nothing to see', secrets, 'log')).toEqual([]);
  });

  it('finds a secret inside an unencrypted payload of a history, wherever it sits in the payload', () => {
    const payload = Buffer.from(JSON.stringify({ note: 'x', accessToken: token })).toString('base64');
    const history = { events: [{ workflowExecutionStartedEventAttributes: { input: { payloads: [{ metadata: {}, data: payload }] } } }] };
    expect(findSecrets(withDecodedData(history), secrets, 'history')).toEqual([{ where: 'history', secret: 'access token of acme/alice' }]);
  });

  it('takes tokens, secrets, passwords and key material from the environment', () => {
    const s = secretsOfEnv({
      MATRIX_AS_TOKEN: 'as-token-value-123',
      SERVICE_JWT_SECRET: 'jwt-secret-value-123',
      MATRIX_ADMIN_PASSWORD: 'admin-password-123',
      TOKEN_ENCRYPTION_KEYS: 'k1:AAAAkeymaterialAAAA=,k2:BBBBkeymaterialBBBB=',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
    });
    expect([...s.keys()].sort()).toEqual(['MATRIX_ADMIN_PASSWORD', 'MATRIX_AS_TOKEN', 'SERVICE_JWT_SECRET', 'TOKEN_ENCRYPTION_KEYS[k1]', 'TOKEN_ENCRYPTION_KEYS[k2]']);
  });
});
