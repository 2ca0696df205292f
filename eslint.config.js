// Flat config. The workflow sandbox rule lives here so that the linter, not reviewers, keeps
// non-deterministic and I/O modules out of workflows/ (Temporal replays workflow code).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'pg',
  'pg-*',
  'matrix-js-sdk',
  'matrix-js-sdk/*',
  'hono',
  'hono/*',
  '@hono/*',
  'pino',
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', 'test-artifacts/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through lib/config.ts only.',
        },
      ],
    },
  },
  {
    files: ['lib/config.ts', 'scripts/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // vocabulary/ is imported by workflow code, so it is held to the same rule.
    files: ['workflows/**/*.ts', 'vocabulary/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: forbiddenInWorkflows,
              message: 'Workflow code runs in the deterministic sandbox: no Node built-ins, pg, matrix-js-sdk or hono.',
            },
          ],
        },
      ],
    },
  },
);
